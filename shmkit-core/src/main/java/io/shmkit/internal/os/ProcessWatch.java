package io.shmkit.internal.os;

/**
 * A watch on one process, identified by pid and start time, for a waiter that asks again and
 * again whether a lock's owner still lives. Opening the watch costs what one
 * {@link OsBackend#mayBeAlive} costs; each later question is cheaper where the platform has a
 * handle on the process itself (Linux: a pidfd, asked with one non-blocking {@code poll}), and a
 * handle can never be fooled by the pid being reused. Close it when done.
 */
public interface ProcessWatch extends AutoCloseable {

    /**
     * Whether the watched process may still run: false only when certain that it ended (or when
     * it had already ended, or its pid belonged to another process, when the watch was opened).
     */
    boolean mayBeAlive();

    /** Releases the handle, if any. */
    @Override
    void close();
}
