package io.shmkit.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Whether anyone still reads this process's stdout, asked without writing to it: a command that
 * waits for input before it prints (as {@code shm recv} waits for messages) learns otherwise only at
 * its next write, so {@code shm recv x | head -1} would wait for a second message that may never
 * come, although {@code head} is long gone.
 */
final class StdoutReader {

    private static final short POLLERR = 0x8;
    private static final short POLLHUP = 0x10;
    /** {@code int poll(struct pollfd *fds, nfds_t nfds, int timeout)}; null where it cannot be found. */
    private static final MethodHandle POLL = lookupPoll();

    private StdoutReader() {
    }

    private static MethodHandle lookupPoll() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("poll").map(poll -> linker.downcallHandle(poll,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT))).orElse(null);
        } catch (RuntimeException unavailable) {
            return null;
        }
    }

    /**
     * @return true when stdout is a pipe whose reading end was closed, or a terminal that hung up
     *         ({@code poll(2)} reports POLLERR or POLLHUP for fd 1); false otherwise, or when it cannot tell
     */
    static boolean gone() {
        if (POLL == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            // struct pollfd { int fd; short events; short revents; }: fd 1, no events asked for,
            // since errors and hang-ups are always reported.
            MemorySegment fds = arena.allocate(8, 4);
            fds.set(ValueLayout.JAVA_INT, 0, 1);
            int ready = (int) POLL.invokeExact(fds, 1L, 0);
            return ready > 0 && (fds.get(ValueLayout.JAVA_SHORT, 6) & (POLLERR | POLLHUP)) != 0;
        } catch (Throwable unexpected) {
            return false;
        }
    }
}
