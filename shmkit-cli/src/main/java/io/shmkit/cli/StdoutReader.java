package io.shmkit.cli;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;

/**
 * Whether anyone still reads this process's stdout, asked without writing to it: a command that
 * waits for input before it prints (as {@code shm recv} waits for messages) learns otherwise only at
 * its next write, so {@code shm recv x | head -1} would wait for a second message that may never
 * come, although {@code head} is long gone.
 *
 * <p>Commands that print as they go check each print with {@link #check(PrintWriter)} and their
 * waits with {@link #gone()} or {@link #sleepUnlessGone(Duration)}; all end with
 * {@link StdoutClosed}, which {@code shm} turns into exit code 0 without a message, as a command
 * killed by SIGPIPE in a pipeline is not reported either (the JVM ignores SIGPIPE, so a write to a
 * closed pipe only fails, and {@link PrintWriter} only remembers that).
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

    /**
     * Sleeps {@code duration}, or less if nobody reads stdout any more (it waits in {@code poll(2)},
     * which the closing of a pipe's reading end wakes).
     *
     * @param duration how long to sleep
     * @throws StdoutClosed when stdout has no reader any more, before or during the sleep
     * @throws InterruptedException when interrupted (only where poll(2) is not available)
     */
    static void sleepUnlessGone(Duration duration) throws InterruptedException {
        long deadline = System.nanoTime() + Durations.saturatedNanos(duration);
        while (true) {
            if (gone()) {
                throw new StdoutClosed();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            if (POLL == null) {
                Thread.sleep(Duration.ofNanos(left));
                continue;
            }
            int millis = (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment fds = arena.allocate(8, 4);
                fds.set(ValueLayout.JAVA_INT, 0, 1);
                // Returns at the timeout, at a hang-up or error of fd 1, or early on a signal (EINTR).
                int unused = (int) POLL.invokeExact(fds, 1L, millis);
            } catch (Throwable unexpected) {
                Thread.sleep(Duration.ofNanos(left));
            }
        }
    }

    /**
     * Flushes {@code out} and checks that what was printed could be written.
     *
     * @param out the command's stdout
     * @throws StdoutClosed when the write failed: stdout is closed, a pipe nobody reads any more
     */
    static void check(PrintWriter out) {
        out.flush();
        // Neither writer throws: both only remember the failure.
        if (out.checkError() || System.out.checkError()) {
            throw new StdoutClosed();
        }
    }

    /**
     * Nobody reads this process's stdout any more: the command ends, with exit code 0 and no message
     * ({@code shm reader x --follow | head -1} did what was asked once head has its line).
     */
    static final class StdoutClosed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StdoutClosed() {
            super("stdout is closed", null, false, false);
        }
    }
}
