package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The byte layout of an interprocess event (the Win32 event object): 16 bytes, 4-byte aligned.
 *
 * <pre>
 *  0       4       6       8               12              16
 *  +-------+-------+-------+---------------+---------------+
 *  | magic |version| flags |  state word   |    waiters    |
 *  | SEVT  |   1   | bit 0 |  u32 (futex)  |      u32      |
 *  +-------+-------+-------+---------------+---------------+
 *
 *  flags bit 0: 1 = manual reset, 0 = auto reset
 *  state word:   31                                  1   0
 *               +-------------------------------------+---+
 *               |   generation (count of set()s)       | S |   S = signaled
 *               +-------------------------------------+---+
 * </pre>
 *
 * <ul>
 *   <li><b>state word</b>: bit 0 is "signaled". Bits 1..31 count {@code set()} calls (wrapping);
 *   every set adds 2 and sets bit 0, with one CAS. A waiter that saw generation g unsignaled
 *   sleeps with {@code FUTEX_WAIT(word, value seen)}; it is released when the word changes.
 *   A manual-reset waiter returns when it sees the signaled bit or a generation other than g, so
 *   a {@code set()} immediately followed by {@code reset()} still releases everyone who was
 *   waiting (as Win32 does). An auto-reset waiter returns only after it cleared bit 0 with a
 *   CAS itself: each set releases exactly one waiter, or stays signaled until one comes.</li>
 *   <li><b>waiters</b>: how many threads may be sleeping on the word; a waiter increments it
 *   before sleeping and decrements it after. {@code set()} makes the wake-up system call only
 *   when it is non-zero. A waiter killed while waiting leaves it too high, which costs only a
 *   needless wake-up call.</li>
 * </ul>
 *
 * <p>Set from C: {@code do { old = *word; } while (!CAS(word, old, (old + 2) | 1));} then, if
 * {@code *waiters != 0}, {@code futex(word, FUTEX_WAKE, manual ? INT_MAX : 1)}.
 */
public final class EventDescriptor {

    private EventDescriptor() {
    }

    /** Layout version this shmkit reads and writes. */
    public static final int VERSION = 1;
    /** Magic, "SEVT". */
    public static final int MAGIC = HeaderDescriptor.EVENT_MAGIC;

    /** Offset of the u32 state word (futex). */
    public static final long STATE_OFFSET = 8;
    /** Offset of the u32 waiter count. */
    public static final long WAITERS_OFFSET = 12;
    /** Bytes an event occupies. */
    public static final long SIZE = 16;
    /** Required alignment of an event's first byte. */
    public static final long ALIGNMENT = 4;

    /** Flag: manual reset (stays signaled until reset). */
    public static final int FLAG_MANUAL_RESET = 1;
    /** State bit: signaled. */
    public static final int SIGNALED = 1;
    /** What set() adds to the generation part of the state word. */
    public static final int GENERATION_STEP = 2;

    /** Writes an unsignaled event and publishes it (magic last). */
    public static void initialize(MemorySegment mem, boolean manualReset, boolean initiallySet) {
        mem.asSlice(0, SIZE).fill((byte) 0);
        mem.set(ValueLayout.JAVA_INT, STATE_OFFSET, initiallySet ? SIGNALED : 0);
        HeaderDescriptor.publish(mem, MAGIC, VERSION, manualReset ? FLAG_MANUAL_RESET : 0);
    }

    /** Whether the flags say manual reset. */
    public static boolean manualReset(MemorySegment mem) {
        return (HeaderDescriptor.flags(mem) & FLAG_MANUAL_RESET) != 0;
    }

    /**
     * Checks magic, version, flags and waiter count.
     *
     * @throws SegmentFormatException naming the segment, offset and problem
     */
    public static void check(MemorySegment mem, String segmentName, long at) throws SegmentFormatException {
        HeaderDescriptor.checkHeader(mem, MAGIC, VERSION, "event", segmentName, at);
        int flags = HeaderDescriptor.flags(mem);
        if ((flags & ~FLAG_MANUAL_RESET) != 0) {
            throw new SegmentFormatException(segmentName, at, "an event with unknown flags 0x"
                    + Integer.toHexString(flags));
        }
        int waiters = mem.get(ValueLayout.JAVA_INT, WAITERS_OFFSET);
        if (waiters < 0) {
            throw new SegmentFormatException(segmentName, at, "event: the waiter count holds " + waiters
                    + " (negative: garbage or corruption)");
        }
    }
}
