package io.shmkit.internal.os;

/**
 * A 32-bit word of shared memory that threads of any process can sleep on until it changes, as
 * the synchronization primitives need it. Obtained once per primitive from
 * {@link OsBackend#waitWord}, so that the parking path allocates nothing platform-specific per call.
 *
 * <p>Platforms differ in how this crosses processes:
 * <ul>
 *   <li>Linux: {@code futex(2)} on the word itself (not {@code FUTEX_PRIVATE}).</li>
 *   <li>macOS (planned): {@code os_sync_wait_on_address} with {@code OS_SYNC_WAIT_ON_ADDRESS_SHARED}
 *   (macOS 14.4+), or {@code __ulock_wait(UL_COMPARE_AND_WAIT_SHARED)} before that; the same
 *   compare-and-sleep contract.</li>
 *   <li>Windows (planned): {@code WaitOnAddress} does not cross processes, so a backend would
 *   back each word with a named kernel event derived from the segment name and the word's offset
 *   ({@code Local\shmkit-<segment>-<offset>}), re-checking the word after each wait; that is why
 *   {@link OsBackend#waitWord} receives the segment name and offset, not only an address.</li>
 * </ul>
 * Spurious returns are allowed everywhere: callers always re-check the word.
 */
public interface WaitWord {

    /**
     * Sleeps while the word holds {@code expected}, for at most {@code timeoutNanos} (negative:
     * no limit).
     *
     * @return 0 when woken (or spuriously), or a negative errno: {@code -EAGAIN} when the word
     *         differed, {@code -ETIMEDOUT}, {@code -EINTR}
     */
    int await(int expected, long timeoutNanos);

    /**
     * Wakes up to {@code count} sleepers ({@link Integer#MAX_VALUE}: all).
     *
     * @return how many were woken, when the platform knows
     */
    int wake(int count);
}
