package io.shmkit.channel;

/**
 * What a polling loop does when a poll found nothing: {@code idle.idle(consumer.poll(handler, 64))}.
 * Given the work done (0 when idle), it spins, yields, sleeps or parks, and resets as soon as work
 * arrives. Instances keep state: use one per thread.
 *
 * <ul>
 *   <li>{@link #busySpin()}: lowest latency, burns a core;</li>
 *   <li>{@link #yielding()}: spins a little, then yields the CPU;</li>
 *   <li>{@link #backoff(long)}: spins, yields, then sleeps for growing periods up to a maximum;</li>
 *   <li>{@link ChannelConsumer#blockingIdleStrategy()}: spins, then parks in the kernel on the
 *       channel's futex word until a producer commits: no CPU while idle, woken within microseconds.</li>
 * </ul>
 */
public interface IdleStrategy {

    /**
     * Called after each unit of polling.
     *
     * @param workCount what the poll did; 0 means idle
     */
    void idle(int workCount);

    /** Forgets the idle streak, as if work had arrived. */
    void reset();

    /** @return a strategy that only spins ({@link Thread#onSpinWait()}) */
    static IdleStrategy busySpin() {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                if (workCount == 0) {
                    Thread.onSpinWait();
                }
            }

            @Override
            public void reset() {
            }

            @Override
            public String toString() {
                return "busy-spin";
            }
        };
    }

    /** @return a strategy that spins 100 times, then yields */
    static IdleStrategy yielding() {
        return new BackoffIdleStrategy(100, 1_000_000, 0);
    }

    /**
     * Spins, then yields, then sleeps, doubling from 1 µs up to {@code maxSleepNanos}.
     *
     * @param maxSleepNanos the longest sleep, in nanoseconds, at least 1000
     * @return the strategy
     */
    static IdleStrategy backoff(long maxSleepNanos) {
        if (maxSleepNanos < 1000) {
            throw new IllegalArgumentException("max sleep " + maxSleepNanos + " ns must be at least 1000");
        }
        return new BackoffIdleStrategy(100, 100, maxSleepNanos);
    }
}
