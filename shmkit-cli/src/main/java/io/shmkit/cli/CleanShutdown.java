package io.shmkit.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) or SIGTERM while a command waits in shared memory: the JVM runs its shutdown hooks
 * and halts, and a thread asleep in a wait would never run its {@code finally}, leaving its count in
 * a "waiting" word for good ({@code shm recv}: every commit of the sender would then wake nobody with
 * a system call; {@code shm event NAME wait}: {@code shm info} would show a waiter that is gone).
 *
 * <p>While open, this holds the shutdown back (at most {@link #GRACE}) until the command has seen
 * {@link #requested()} between two slices of its wait, ended with {@link Requested}, and closed what
 * it had open; the process then exits as the signal says (130 for Ctrl-C, 143 for SIGTERM), without
 * a message. Open it before the resources it guards, so that it is closed after them.
 */
final class CleanShutdown implements AutoCloseable {

    /** The longest a shutdown waits for the command: a few slices of its wait. */
    private static final Duration GRACE = Duration.ofSeconds(2);

    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean requested;

    CleanShutdown() {
        hook = Thread.ofPlatform().unstarted(() -> {
            requested = true;
            try {
                finished.await(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Ends the command if a shutdown began.
     *
     * @throws Requested when Ctrl-C or SIGTERM came
     */
    void check() {
        if (requested) {
            throw new Requested();
        }
    }

    /** Lets a shutdown that waits for the command go on; a later one no longer waits. */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook runs, and returns now.
        }
    }

    /** The command ends because the process is shutting down: nothing to report, the signal sets the exit code. */
    static final class Requested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Requested() {
            super("shutting down (Ctrl-C or SIGTERM)", null, false, false);
        }
    }
}
