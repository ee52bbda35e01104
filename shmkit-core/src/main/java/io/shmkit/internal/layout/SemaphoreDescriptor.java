package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The byte layout of an interprocess counting semaphore: 24 bytes, 4-byte aligned.
 *
 * <pre>
 *  0       4       6       8               12              16              20              24
 *  +-------+-------+-------+---------------+---------------+---------------+---------------+
 *  | magic |version| flags |    count      |    waiters    |      max      |      (0)      |
 *  | SSEM  |   1   |   0   |  u32 (futex)  |      u32      |      u32      |               |
 *  +-------+-------+-------+---------------+---------------+---------------+---------------+
 * </pre>
 *
 * <ul>
 *   <li><b>count</b>: permits available, 0..max. Acquire: {@code CAS(count, c, c - n)} when
 *   {@code c >= n}, else increment waiters and {@code FUTEX_WAIT(count, c)}. Release:
 *   {@code CAS(count, c, c + n)} when {@code c + n <= max} (else the release is refused, like
 *   Win32's {@code ERROR_TOO_MANY_POSTS}), then {@code FUTEX_WAKE} when waiters is non-zero.</li>
 *   <li><b>waiters</b>: threads that may be sleeping on count (see {@link EventDescriptor}).</li>
 *   <li><b>max</b>: the maximum count, at least 1; fixed at creation.</li>
 * </ul>
 * Permits taken by a process that dies are not given back (as with POSIX and Win32 semaphores).
 */
public final class SemaphoreDescriptor {

    private SemaphoreDescriptor() {
    }

    /** Layout version this shmkit reads and writes. */
    public static final int VERSION = 1;
    /** Magic, "SSEM". */
    public static final int MAGIC = HeaderDescriptor.SEMAPHORE_MAGIC;

    /** Offset of the u32 count (futex). */
    public static final long COUNT_OFFSET = 8;
    /** Offset of the u32 waiter count. */
    public static final long WAITERS_OFFSET = 12;
    /** Offset of the u32 maximum count. */
    public static final long MAX_OFFSET = 16;
    /** Bytes a semaphore occupies. */
    public static final long SIZE = 24;
    /** Required alignment of a semaphore's first byte. */
    public static final long ALIGNMENT = 4;

    /** Writes a semaphore with {@code initial} of {@code max} permits and publishes it (magic last). */
    public static void initialize(MemorySegment mem, int initial, int max) {
        mem.asSlice(0, SIZE).fill((byte) 0);
        mem.set(ValueLayout.JAVA_INT, COUNT_OFFSET, initial);
        mem.set(ValueLayout.JAVA_INT, MAX_OFFSET, max);
        HeaderDescriptor.publish(mem, MAGIC, VERSION, 0);
    }

    /**
     * Checks magic, version, flags, max, count and waiters.
     *
     * @throws SegmentFormatException naming the segment, offset and problem
     */
    public static void check(MemorySegment mem, String segmentName, long at) throws SegmentFormatException {
        HeaderDescriptor.checkHeader(mem, MAGIC, VERSION, "semaphore", segmentName, at);
        int flags = HeaderDescriptor.flags(mem);
        if (flags != 0) {
            throw new SegmentFormatException(segmentName, at, "a semaphore with unknown flags 0x"
                    + Integer.toHexString(flags));
        }
        int max = mem.get(ValueLayout.JAVA_INT, MAX_OFFSET);
        if (max < 1) {
            throw new SegmentFormatException(segmentName, at, "semaphore: the maximum count holds " + max
                    + " (must be at least 1)");
        }
        int count = mem.get(ValueLayout.JAVA_INT, COUNT_OFFSET);
        if (count < 0 || count > max) {
            throw new SegmentFormatException(segmentName, at, "semaphore: the count holds " + count
                    + ", outside 0.." + max);
        }
        int waiters = mem.get(ValueLayout.JAVA_INT, WAITERS_OFFSET);
        if (waiters < 0) {
            throw new SegmentFormatException(segmentName, at, "semaphore: the waiter count holds " + waiters
                    + " (negative: garbage or corruption)");
        }
    }
}
