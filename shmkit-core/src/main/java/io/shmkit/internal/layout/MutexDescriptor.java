package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The byte layout of a robust interprocess mutex: 64 bytes (one cache line), 8-byte aligned
 * (64-byte alignment recommended so that nothing else shares its cache line).
 *
 * <pre>
 *  0       4       6       8                               16      20      24
 *  +-------+-------+-------+-------------------------------+-------+-------+
 *  | magic |version| flags |           lock word           | state | (0)   |
 *  | SMTX  |   1   |   0   |  u64, futex on bytes 8..11     |  u32  |       |
 *  +-------+-------+-------+-------------------------------+-------+-------+
 *  24                      32                      40                      48      52      64
 *  +-----------------------+-----------------------+-----------------------+-------+-------+
 *  | owner thread id (u64) | abandon count (u64)   | pid namespace (u64)   | dead  | (0)   |
 *  |                       |                       |                       | pid   |       |
 *  +-----------------------+-----------------------+-----------------------+-------+-------+
 *
 *  lock word, u64 little-endian:
 *   63                          32 31 30                          0
 *  +------------------------------+--+-----------------------------+
 *  | owner start time, low 32 bits| W|        owner pid            |
 *  +------------------------------+--+-----------------------------+
 *   0 = free.  W = some thread may sleep in futex(2) on bytes 8..11.
 * </pre>
 *
 * <ul>
 *   <li><b>lock word</b>: 0 when free. A locker compare-and-swaps it from 0 to its <em>owner
 *   tag</em>: its process id (bits 0..30; Linux pids are at most 2^22) and the low 32 bits of its
 *   process start time (bits 32..63; on Linux field 22 of {@code /proc/PID/stat}, clock ticks
 *   since boot). The tag is written by the same atomic instruction that takes the lock, so there
 *   is no window in which the lock is held but the owner unknown, and a reused pid has another
 *   start time. Bit 31 (W) says that waiters may sleep on the low half; the unlocker then wakes
 *   one ({@code FUTEX_WAKE} on the address of byte 8). Waiters sleep with {@code FUTEX_WAIT}
 *   on the low 32 bits (bytes 8..11).</li>
 *   <li><b>state</b>: {@link #CONSISTENT} (0), or {@link #INCONSISTENT} (1): an owner died
 *   holding the lock, the protected data may be half-updated, and nobody has marked it
 *   consistent since. Written only by the holder.</li>
 *   <li><b>owner thread id</b>: who in the owning process holds it: a Java holder writes its pid
 *   in the high 23 bits and the low 41 bits of its {@code Thread.threadId()} below them
 *   ({@link #ownerThreadWord}); a C program writes its thread id, or any non-zero number that no
 *   thread of another process writes. Java numbers threads per process, so the id alone would
 *   not tell a thread of this process from one of another. Ownership is by thread within the
 *   owning process; other processes use it only for display. 0 when free.</li>
 *   <li><b>abandon count</b>: how many times the lock was taken over from a dead owner.</li>
 *   <li><b>dead pid</b> (u32): the pid of the last owner that died holding the lock, 0 if none
 *   ever did; written by the waiter that takes over, for messages.</li>
 *   <li><b>pid namespace</b>: the creator's pid namespace (Linux: the inode number of
 *   {@code /proc/self/ns/pid}), or 0 when unknown. Pids mean the same process only within one pid
 *   namespace, so a process of another namespace refuses to use the mutex rather than take a live
 *   owner for dead (containers that share {@code /dev/shm} but not their pid namespace).</li>
 * </ul>
 *
 * <p>Lock: {@code CAS(word, 0, tag)}; on failure set W with a CAS and {@code FUTEX_WAIT} on the
 * low half, for at most a slice; between slices, check that the owner in the word is alive (it is
 * dead when no process has its pid, or the process with that pid is a zombie or started at
 * another time) and, if it died, {@code CAS(word, deadWord, tag | W)}, set state to 1 and count
 * the takeover. Unlock: clear the owner thread, then {@code CAS(word, tag, 0)}; if that fails
 * because W is set, store 0 and {@code FUTEX_WAKE} one waiter.
 */
public final class MutexDescriptor {

    private MutexDescriptor() {
    }

    /** Layout version this shmkit reads and writes. */
    public static final int VERSION = 1;
    /** Magic, "SMTX". */
    public static final int MAGIC = HeaderDescriptor.MUTEX_MAGIC;

    /** Offset of the u64 lock word (futex on its low 32 bits, bytes 8..11). */
    public static final long LOCK_WORD_OFFSET = 8;
    /** Offset of the u32 consistency state. */
    public static final long STATE_OFFSET = 16;
    /** Offset of the u64 owner thread id. */
    public static final long OWNER_THREAD_OFFSET = 24;
    /** Offset of the u64 count of takeovers from dead owners. */
    public static final long ABANDON_COUNT_OFFSET = 32;
    /** Offset of the u64 id of the creator's pid namespace (0: unknown). */
    public static final long PID_NAMESPACE_OFFSET = 40;
    /** Offset of the u32 pid of the last owner that died holding the lock (0: none). */
    public static final long DEAD_OWNER_PID_OFFSET = 48;
    /** Bytes a mutex occupies. */
    public static final long SIZE = 64;
    /** Required alignment of a mutex's first byte. */
    public static final long ALIGNMENT = 8;

    /** The waiters bit of the lock word. */
    public static final long WAITERS = 1L << 31;
    /** The owner pid bits of the lock word. */
    public static final long PID_MASK = 0x7fff_ffffL;
    /** Largest pid Linux can hand out (PID_MAX_LIMIT on 64-bit): larger values are garbage. */
    public static final int PID_MAX = 4 * 1024 * 1024;

    /** State: the protected data is consistent. */
    public static final int CONSISTENT = 0;
    /** State: an owner died holding the lock, and nobody marked the data consistent since. */
    public static final int INCONSISTENT = 1;

    /** The owner tag of a process: its pid and the low 32 bits of its start time. */
    public static long tag(int pid, long startTime) {
        return (startTime << 32) | (pid & PID_MASK);
    }

    /** The owner pid recorded in a lock word (0 when free). */
    public static int ownerPid(long word) {
        return (int) (word & PID_MASK);
    }

    /**
     * Bits of an owner-thread word that hold a Java holder's thread id; the pid (at most 2^22, so
     * 23 bits) sits above them. Thread ids 2^41 apart share a word: a JVM would have to start more
     * than two trillion threads while one of them holds the lock.
     */
    public static final int OWNER_THREAD_ID_BITS = 41;

    private static final long OWNER_THREAD_ID_MASK = (1L << OWNER_THREAD_ID_BITS) - 1;

    /**
     * The owner-thread word a Java holder writes: its pid in the high 23 bits, the low 41 bits of
     * its {@code Thread.threadId()} below them. Never 0 (a pid is at least 1).
     */
    public static long ownerThreadWord(int pid, long threadId) {
        return ((long) pid << OWNER_THREAD_ID_BITS) | (threadId & OWNER_THREAD_ID_MASK);
    }

    /** The thread id part of an owner-thread word a Java holder wrote (for messages). */
    public static long ownerThreadId(long ownerThreadWord) {
        return ownerThreadWord & OWNER_THREAD_ID_MASK;
    }

    /** The pid part of an owner-thread word a Java holder wrote. */
    public static int ownerThreadPid(long ownerThreadWord) {
        return (int) (ownerThreadWord >>> OWNER_THREAD_ID_BITS);
    }

    /** The low 32 bits of the owner's start time recorded in a lock word. */
    public static int ownerStartLow32(long word) {
        return (int) (word >>> 32);
    }

    /** What a lock word means, or null when it is a valid one. */
    public static String problemWithWord(long word) {
        if (word == 0) {
            return null;
        }
        int pid = ownerPid(word);
        if (pid == 0) {
            return String.format("the lock word holds 0x%016x: it is neither free (0) nor held (no owner pid)", word);
        }
        if (pid > PID_MAX) {
            return String.format("the lock word holds 0x%016x: its owner pid %d is above the largest possible pid %d"
                    + " (garbage or corruption)", word, pid, PID_MAX);
        }
        return null;
    }

    /**
     * Writes a free, consistent mutex at {@code mem} and publishes it (magic last).
     *
     * @param pidNamespace the creator's pid namespace id, 0 when unknown
     */
    public static void initialize(MemorySegment mem, long pidNamespace) {
        mem.asSlice(0, SIZE).fill((byte) 0);
        mem.set(ValueLayout.JAVA_LONG, PID_NAMESPACE_OFFSET, pidNamespace);
        HeaderDescriptor.publish(mem, MAGIC, VERSION, 0);
    }

    /**
     * Checks that a process of pid namespace {@code own} may use the mutex at {@code mem}.
     *
     * @throws io.shmkit.ShmException when both namespaces are known and differ
     */
    public static void checkPidNamespace(MemorySegment mem, long own, String segmentName, long at)
            throws io.shmkit.ShmException {
        long recorded = mem.get(ValueLayout.JAVA_LONG, PID_NAMESPACE_OFFSET);
        if (recorded != 0 && own != 0 && recorded != own) {
            throw new io.shmkit.ShmException(segmentName, "segment \"" + segmentName + "\", offset " + at
                    + ": the mutex was created in another pid namespace (" + recorded + ", this process is in " + own
                    + "); its owners' pids mean nothing here, so it cannot tell a live owner from a dead one."
                    + " Share the pid namespace too (e.g. docker --pid=container:...)", 0);
        }
    }

    /**
     * Checks what is found at {@code mem}: magic, version, flags, lock word and state.
     *
     * @throws SegmentFormatException naming the segment, offset and problem
     */
    public static void check(MemorySegment mem, String segmentName, long at) throws SegmentFormatException {
        HeaderDescriptor.checkHeader(mem, MAGIC, VERSION, "mutex", segmentName, at);
        int flags = HeaderDescriptor.flags(mem);
        if (flags != 0) {
            throw new SegmentFormatException(segmentName, at, "a mutex with unknown flags 0x"
                    + Integer.toHexString(flags));
        }
        String problem = problemWithWord(mem.get(ValueLayout.JAVA_LONG, LOCK_WORD_OFFSET));
        if (problem != null) {
            throw new SegmentFormatException(segmentName, at, "mutex: " + problem);
        }
        checkState(mem.get(ValueLayout.JAVA_INT, STATE_OFFSET), segmentName, at);
    }

    /** Checks a consistency state value. */
    public static void checkState(int state, String segmentName, long at) throws SegmentFormatException {
        if (state != CONSISTENT && state != INCONSISTENT) {
            throw new SegmentFormatException(segmentName, at, "mutex: the state word holds " + state
                    + ", neither consistent (0) nor inconsistent (1)");
        }
    }
}
