package io.shmkit.channel;

import java.util.concurrent.locks.LockSupport;

/**
 * {@link IdleStrategy#yielding()} and {@link IdleStrategy#backoff(long)}: spin, then yield, then (when
 * {@code maxSleepNanos > 0}) sleep with exponential backoff. Not public: a class nested in the
 * interface would have been part of the API whether meant or not.
 */
final class BackoffIdleStrategy implements IdleStrategy {
    private final int spins;
    private final int yields;
    private final long maxSleepNanos;
    private int idleCount;
    private long sleepNanos = 1000;

    BackoffIdleStrategy(int spins, int yields, long maxSleepNanos) {
        this.spins = spins;
        this.yields = yields;
        this.maxSleepNanos = maxSleepNanos;
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            reset();
            return;
        }
        int n = idleCount++;
        if (n < spins) {
            Thread.onSpinWait();
        } else if (n < spins + yields || maxSleepNanos == 0) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(sleepNanos);
            sleepNanos = Math.min(maxSleepNanos, sleepNanos * 2);
        }
    }

    @Override
    public void reset() {
        idleCount = 0;
        sleepNanos = 1000;
    }

    @Override
    public String toString() {
        return maxSleepNanos == 0 ? "yielding" : "backoff(max " + maxSleepNanos + " ns)";
    }
}
