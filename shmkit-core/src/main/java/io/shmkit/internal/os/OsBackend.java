package io.shmkit.internal.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

/**
 * What shmkit needs from an operating system: named shared memory objects, file mappings,
 * waiting on a word of shared memory, and process liveness. One implementation per platform
 * ({@link LinuxBackend} now; macOS and Windows slot in behind this interface later).
 *
 * <p>Names given to a backend are already validated and stripped of Win32 prefixes
 * (see {@link SegmentNames}). Failures are reported with Java's own exceptions where they fit
 * ({@link java.nio.file.FileAlreadyExistsException}, {@link java.nio.file.NoSuchFileException},
 * {@link java.nio.file.AccessDeniedException}) and {@link io.shmkit.ShmException} otherwise,
 * always naming the object.
 */
public interface OsBackend {

    /** The backend for the platform this JVM runs on. */
    static OsBackend current() {
        return Holder.INSTANCE;
    }

    /** A short name of the platform, e.g. "linux". */
    String platform();

    /** The longest name, in UTF-8 bytes, that a segment may have on this platform. */
    int maxNameBytes();

    /** Where the OS keeps the object for a name, for messages and docs, e.g. "/dev/shm/demo". */
    String objectPath(String name);

    /** The size of a page: view offsets are aligned down to a multiple of it. */
    long pageSize();

    /**
     * Creates a named object exclusively, of {@code size} bytes (zero-filled), with permission
     * bits {@code mode}, and returns a handle holding it. It becomes visible under its name only
     * when fully initialised. A stale object of the same name (managed with lifetime
     * {@link LifetimeTag#LAST_CLOSE} and with no holder left) is reclaimed first.
     */
    NativeHandle createShm(String name, long size, int mode, LifetimeTag lifetime) throws IOException;

    /** Opens an existing named object; {@code allowForeign} permits one owned by another user. */
    NativeHandle openShm(String name, boolean writable, boolean allowForeign) throws IOException;

    /**
     * Opens a regular file for mapping. With {@code createSize > 0} the file is created when
     * missing (with {@code mode}) and extended to that size when shorter; with 0 it must exist and
     * is mapped as it is.
     */
    NativeHandle openFile(Path file, long createSize, int mode, boolean writable, boolean allowForeign)
            throws IOException;

    /** Releases a handle; for a {@link LifetimeTag#LAST_CLOSE} object, the last holder removes the name. */
    void close(NativeHandle handle);

    /** The current size of the object behind a handle. */
    long currentSize(NativeHandle handle) throws IOException;

    /**
     * Maps {@code length} bytes from the page-aligned {@code offset}; the mapping is released when
     * {@code arena} closes.
     *
     * @param mode 0 read-only, 1 read-write shared, 2 copy-on-write (private)
     */
    MemorySegment map(NativeHandle handle, long offset, long length, int mode, Arena arena) throws IOException;

    /** Writes the pages of a mapping back to its file and waits for it (msync). */
    void flush(MemorySegment mapping, String name) throws IOException;

    /** Every named object, with what the OS knows of it. */
    List<ObjectInfo> list() throws IOException;

    /** One named object, or null when there is none. */
    ObjectInfo info(String name) throws IOException;

    /** Removes a name now, whoever holds it (POSIX unlink); false when there was none. */
    boolean remove(String name) throws IOException;

    /** Removes every stale object of this user (lifetime until last close, no holder left); returns their names. */
    List<String> reclaimStale() throws IOException;

    /**
     * Sleeps while the 32-bit word still holds {@code expected}, for at most {@code timeoutNanos}
     * (negative: no limit). Returns 0 when woken (or spuriously), or a negative errno:
     * {@code -EAGAIN} when the word differed, {@code -ETIMEDOUT}, {@code -EINTR}.
     */
    int waitOnAddress(MemorySegment word, int expected, long timeoutNanos);

    /** Wakes up to {@code count} waiters on the word; returns how many were woken. */
    int wakeAddress(MemorySegment word, int count);

    /**
     * Makes this process take part in {@link #processWideBarrier()}: from now on, a barrier that
     * any process issues also orders the memory accesses of this process's threads. Lets a hot path
     * drop a store-load fence that pairs with a rare slow path (an asymmetric fence). Idempotent.
     *
     * @return false where the platform cannot; the caller then keeps its own fence
     */
    default boolean joinProcessWideBarriers() {
        return false;
    }

    /**
     * A full memory barrier on every CPU that runs a thread of a process that has
     * {@linkplain #joinProcessWideBarriers() joined}, before this returns. Costs a system call
     * and inter-processor interrupts (microseconds): for slow paths, such as going to sleep.
     *
     * @return false where the platform cannot (nothing happened)
     */
    default boolean processWideBarrier() {
        return false;
    }

    /** Whether waiting on a word of shared memory works across processes on this platform. */
    boolean supportsCrossProcessWait();

    /**
     * The word at {@code word} (4 bytes, 4-byte aligned, inside a mapping of a shared segment) as
     * something threads of any process can sleep on. {@code segmentName} and {@code offset} (of
     * the word in that segment) identify it across processes where the platform cannot use the
     * address (Windows); Linux and macOS wait on the address itself.
     */
    default WaitWord waitWord(MemorySegment word, String segmentName, long offset) {
        return new WaitWord() {
            @Override
            public int await(int expected, long timeoutNanos) {
                return waitOnAddress(word, expected, timeoutNanos);
            }

            @Override
            public int wake(int count) {
                return wakeAddress(word, count);
            }
        };
    }

    /**
     * Whether the process {@code pid} whose start time (as {@link #processStartTime} reports it)
     * had these low 32 bits may still be running. False only when certain that it ended: no
     * process has that pid, the process with it is a zombie, or it started at another time (the
     * pid was reused). True when it cannot tell (e.g. {@code /proc} is not readable, or hides
     * another user's process under {@code hidepid}), so that a live owner is never taken for dead.
     * The common case costs one {@code kill(pid, 0)} and one
     * read of {@code /proc/PID/stat}.
     */
    boolean mayBeAlive(int pid, int startTimeLow32);

    /**
     * A watch on the process {@code pid} whose start time had these low 32 bits, for asking
     * {@link #mayBeAlive(int, int)} repeatedly at lower cost. The default asks it every time.
     */
    default ProcessWatch watch(int pid, int startTimeLow32) {
        return new ProcessWatch() {
            @Override
            public boolean mayBeAlive() {
                return OsBackend.this.mayBeAlive(pid, startTimeLow32);
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * The first bytes (at most {@code length}) of a named object, read without becoming a holder
     * and without mapping it, for inspection ({@code shm info}); null when there is none or it
     * cannot be read. The bytes are a racy snapshot.
     */
    byte[] peek(String name, int length);

    /** This process's id. */
    int currentPid();

    /**
     * An identifier of this process's pid namespace (on Linux the inode of {@code /proc/self/ns/pid}),
     * or 0 when unknown. Pids recorded in shared memory mean the same process only to processes of
     * the same pid namespace.
     */
    long pidNamespaceId();

    /**
     * When a process started, in platform units that never repeat for a reused pid (on Linux,
     * clock ticks since boot, as the initial time namespace shows them), or -1 when no such
     * process exists or it cannot be inspected (another user's process under {@code hidepid}):
     * callers ask it of this process only, whose own entry is always readable.
     */
    long processStartTime(int pid);

    /**
     * Whether {@code pid} is alive and still the process that had {@code startTime} ({@link #ANY_START_TIME}:
     * whatever process has the pid). Where the process exists but cannot be inspected (another user's,
     * under {@code hidepid}), it is presumed to be that process: a live participant is never taken for
     * dead.
     */
    default boolean isAlive(int pid, long startTime) {
        long now = processStartTime(pid);
        return now >= 0 && (startTime == ANY_START_TIME || now == startTime);
    }

    /** For {@link #isAlive}: any process with the pid counts. */
    long ANY_START_TIME = -1;

    /** Holds the platform's backend; created on first use. */
    final class Holder {
        private Holder() {
        }

        static final OsBackend INSTANCE = create();

        private static OsBackend create() {
            String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
            if (os.contains("linux")) {
                return new LinuxBackend();
            }
            throw new UnsupportedOperationException("shmkit has no backend for " + System.getProperty("os.name")
                    + " yet: Linux is supported; macOS and Windows are planned behind the same interface");
        }
    }
}
