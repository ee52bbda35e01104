package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The byte layout of a seqlock (a versioned value): a 128-byte header, then the payload.
 * 8-byte aligned (64 recommended).
 *
 * <pre>
 *  0       4       6       8               12              16                              24
 *  +-------+-------+-------+---------------+---------------+-------------------------------+
 *  | magic |version| flags |   capacity    |   followers   |   sequence (u64; futex on     |
 *  | SSEQ  |   1   |   0   |      u32      |      u32      |   its low half, bytes 16..19) |
 *  +-------+-------+-------+---------------+---------------+-------------------------------+
 *  24              28                                      64
 *  +---------------+---------------+-----------------------+
 *  |    length     |      (0)      |         (0)           |
 *  |      u32      |               |                       |
 *  +---------------+---------------+-----------------------+
 *  64                                                      128
 *  +-------------------------------------------------------+
 *  |  writer mutex: a robust mutex, see MutexDescriptor    |
 *  +-------------------------------------------------------+
 *  128                                          128 + capacity
 *  +-------------------------------------------------------+
 *  |  payload: the current value's first `length` bytes    |
 *  +-------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li><b>sequence</b>: even when the value is stable, odd while a writer copies a new one.
 *   The value's version is {@code sequence / 2}; 0 means nothing was written yet.</li>
 *   <li><b>Writer</b>: takes the writer mutex (so several writers are safe, and a writer killed
 *   mid-write is detected like any dead owner); stores {@code sequence + 1} (odd; if it is already
 *   odd because the previous writer died mid-write, {@code sequence + 2}, so readers see a change);
 *   a store-store fence; the payload and length; then {@code sequence + 1} (even) with a release
 *   store; if followers is non-zero, {@code FUTEX_WAKE(all)} on the sequence; unlocks.</li>
 *   <li><b>Reader</b>: {@code s1 = sequence} (acquire); if odd, retry; read length (must be at
 *   most capacity) and copy the payload; a load-load fence; {@code s2 = sequence}; the copy is
 *   consistent only if {@code s1 == s2}, else retry. Readers never write, so read-only mappings
 *   work.</li>
 *   <li><b>followers</b>: threads waiting for the next version ({@code FUTEX_WAIT} on the low
 *   half of sequence), so that a writer makes no wake-up call when nobody follows.</li>
 * </ul>
 */
public final class SeqLockDescriptor {

    private SeqLockDescriptor() {
    }

    /** Layout version this shmkit reads and writes. */
    public static final int VERSION = 1;
    /** Magic, "SSEQ". */
    public static final int MAGIC = HeaderDescriptor.SEQLOCK_MAGIC;

    /** Offset of the u32 payload capacity. */
    public static final long CAPACITY_OFFSET = 8;
    /** Offset of the u32 count of threads waiting for the next version. */
    public static final long FOLLOWERS_OFFSET = 12;
    /** Offset of the u64 sequence (futex on its low 32 bits). */
    public static final long SEQUENCE_OFFSET = 16;
    /** Offset of the u32 length of the current value. */
    public static final long LENGTH_OFFSET = 24;
    /** Offset of the writers' mutex ({@link MutexDescriptor} layout). */
    public static final long WRITER_MUTEX_OFFSET = 64;
    /** Offset of the payload; also the header's size. */
    public static final long PAYLOAD_OFFSET = 128;
    /** Required alignment of a seqlock's first byte. */
    public static final long ALIGNMENT = 8;
    /** The largest payload capacity: lengths are u32 but Java arrays stop below 2^31. */
    public static final long MAX_CAPACITY = Integer.MAX_VALUE - 8 - PAYLOAD_OFFSET;

    /** Total bytes of a seqlock with this capacity. */
    public static long size(long capacity) {
        return PAYLOAD_OFFSET + capacity;
    }

    /**
     * Writes an empty seqlock (version 0, length 0) and publishes it (magic last).
     *
     * @param pidNamespace for the writer mutex, see {@link MutexDescriptor#initialize}
     */
    public static void initialize(MemorySegment mem, int capacity, long pidNamespace) {
        mem.asSlice(0, PAYLOAD_OFFSET).fill((byte) 0);
        mem.set(ValueLayout.JAVA_INT, CAPACITY_OFFSET, capacity);
        MutexDescriptor.initialize(mem.asSlice(WRITER_MUTEX_OFFSET, MutexDescriptor.SIZE), pidNamespace);
        HeaderDescriptor.publish(mem, MAGIC, VERSION, 0);
    }

    /** The capacity as found (unsigned), before any check. */
    public static long capacity(MemorySegment mem) {
        return Integer.toUnsignedLong(mem.get(ValueLayout.JAVA_INT, CAPACITY_OFFSET));
    }

    /**
     * Checks the header and the writer mutex; {@code available} is how many bytes are mapped
     * from the seqlock's start, which must hold the header and the capacity.
     *
     * @throws SegmentFormatException naming the segment, offset and problem
     */
    public static void check(MemorySegment mem, long available, String segmentName, long at)
            throws SegmentFormatException {
        HeaderDescriptor.checkHeader(mem, MAGIC, VERSION, "seqlock", segmentName, at);
        int flags = HeaderDescriptor.flags(mem);
        if (flags != 0) {
            throw new SegmentFormatException(segmentName, at, "a seqlock with unknown flags 0x"
                    + Integer.toHexString(flags));
        }
        long capacity = capacity(mem);
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new SegmentFormatException(segmentName, at, "seqlock: the capacity holds " + capacity
                    + " (must be 1.." + MAX_CAPACITY + ")");
        }
        if (size(capacity) > available) {
            throw new SegmentFormatException(segmentName, at, "seqlock: its capacity of " + capacity
                    + " bytes needs " + size(capacity) + " bytes from its start, but only " + available
                    + " are there (segment too small, or a corrupted capacity)");
        }
        long length = Integer.toUnsignedLong(mem.get(ValueLayout.JAVA_INT, LENGTH_OFFSET));
        long sequence = mem.get(ValueLayout.JAVA_LONG, SEQUENCE_OFFSET);
        if ((sequence & 1) == 0 && length > capacity) {
            throw new SegmentFormatException(segmentName, at, "seqlock: the length holds " + length
                    + ", more than its capacity of " + capacity);
        }
        int followers = mem.get(ValueLayout.JAVA_INT, FOLLOWERS_OFFSET);
        if (followers < 0) {
            throw new SegmentFormatException(segmentName, at, "seqlock: the follower count holds " + followers
                    + " (negative: garbage or corruption)");
        }
        MutexDescriptor.check(mem.asSlice(WRITER_MUTEX_OFFSET, MutexDescriptor.SIZE), segmentName,
                at + WRITER_MUTEX_OFFSET);
    }
}
