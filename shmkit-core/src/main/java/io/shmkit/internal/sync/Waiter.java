package io.shmkit.internal.sync;

import io.shmkit.internal.os.WaitWord;

import java.util.concurrent.locks.LockSupport;

/**
 * One blocking wait of a synchronization primitive, on the slow path: its deadline, whether it
 * may be interrupted, and how to park between re-checks. Allocated per wait that actually blocks;
 * the uncontended paths never get here.
 *
 * <p><b>Platform threads</b> sleep in the kernel on the shared word ({@link WaitWord#await}) for
 * at most {@link #SLICE_NANOS} at a time. Java's {@link Thread#interrupt()} does not signal the
 * OS thread, so interrupts, deadlines and (for mutexes) the owner's liveness are checked between
 * slices: an interrupt is noticed within one slice.
 *
 * <p><b>Virtual threads</b> must not sleep in a system call: that pins their carrier thread, and
 * a few such waits would starve the scheduler. They park with {@link LockSupport#parkNanos} in an
 * exponential backoff from {@link #VIRTUAL_MIN_BACKOFF_NANOS} to {@link #VIRTUAL_MAX_BACKOFF_NANOS},
 * re-checking the word after each. The trade-off: a virtual waiter notices a release up to the
 * current backoff later (at most 2 ms), and a long wait costs a few hundred cheap wake-ups per
 * second; in exchange it never holds a carrier, and an interrupt unparks it at once.
 *
 * <p>An uninterruptible wait keeps an interrupt that arrives while waiting and restores it when
 * done ({@link #finish()}), as {@code ReentrantLock.lock()} does; otherwise a virtual thread's
 * {@code parkNanos} would return at once forever and spin.
 */
public final class Waiter {

    /** Longest sleep in the kernel before interrupts, deadlines and owner liveness are re-checked. */
    public static final long SLICE_NANOS = 20_000_000L;
    /** First backoff of a virtual thread. */
    public static final long VIRTUAL_MIN_BACKOFF_NANOS = 20_000L;
    /** Longest backoff of a virtual thread. */
    public static final long VIRTUAL_MAX_BACKOFF_NANOS = 2_000_000L;
    /** Spins (re-reads with {@link Thread#onSpinWait()}) before the first park. */
    public static final int SPINS = 100;

    private final long deadline;
    private final boolean timed;
    private final boolean interruptible;
    private final boolean virtual;
    private boolean absorbedInterrupt;
    private int round;

    /**
     * @param timeoutNanos how long the wait may take; negative for no limit
     * @param interruptible whether an interrupt ends the wait with {@link InterruptedException}
     */
    public Waiter(long timeoutNanos, boolean interruptible) {
        this.timed = timeoutNanos >= 0;
        this.deadline = timed ? System.nanoTime() + timeoutNanos : 0;
        this.interruptible = interruptible;
        this.virtual = Thread.currentThread().isVirtual();
    }

    /** Whether the deadline has passed (never, for an untimed wait). */
    public boolean expired() {
        return timed && deadline - System.nanoTime() <= 0;
    }

    /** Whether this wait parks with backoff (virtual thread) instead of in the kernel. */
    public boolean isVirtual() {
        return virtual;
    }

    /** How many times {@link #park} has returned. */
    public int rounds() {
        return round;
    }

    /**
     * Checks for an interrupt: throws for an interruptible wait; otherwise clears and remembers it.
     *
     * @throws InterruptedException when interruptible and interrupted
     */
    public void checkInterrupt() throws InterruptedException {
        if (Thread.interrupted()) {
            if (interruptible) {
                throw new InterruptedException();
            }
            absorbedInterrupt = true;
        }
    }

    /**
     * Parks once while {@code word} holds {@code expected}: at most one slice, never past the
     * deadline. Returns early on a wake-up, a change of the word, or spuriously; the caller
     * re-checks everything.
     *
     * @throws InterruptedException when interruptible and interrupted, before or after parking
     */
    public void park(WaitWord word, int expected) throws InterruptedException {
        checkInterrupt();
        long max = SLICE_NANOS;
        if (timed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            max = Math.min(max, left);
        }
        if (virtual || word == null) {
            long backoff = VIRTUAL_MIN_BACKOFF_NANOS << Math.min(round, 16);
            LockSupport.parkNanos(Math.min(max, Math.min(backoff, VIRTUAL_MAX_BACKOFF_NANOS)));
        } else {
            word.await(expected, max);
        }
        if (round < Integer.MAX_VALUE) {
            // Saturates: a negative count would shift the backoff by a negative distance, and
            // rounds() > 0 tells the mutex this waiter slept (so that it takes the lock with the
            // waiters bit and its unlock wakes the next sleeper).
            round++;
        }
        checkInterrupt();
    }

    /** Restores an interrupt absorbed by an uninterruptible wait. Call when the wait ends, however. */
    public void finish() {
        if (absorbedInterrupt) {
            Thread.currentThread().interrupt();
        }
    }
}
