package io.shmkit;

/**
 * How long a named segment lives, chosen when it is created.
 */
public enum Lifetime {
    /**
     * The Win32 behaviour, and the default: the segment exists while at least one process holds a
     * {@link Segment} handle to it, and its name is removed when the last holder closes it. When
     * every holder dies (even by SIGKILL), the kernel releases their holds and the segment is
     * reclaimed by the next create or open of the name, or by {@link SharedMemory#reclaimStale()}.
     */
    UNTIL_LAST_CLOSE,
    /**
     * The POSIX behaviour: the segment outlives every process and stays until
     * {@link SharedMemory#remove(String)} (or {@code shm rm}, or {@code shm_unlink}) removes it.
     * Segments made by other programs (C, Python, Boost) are reported with this lifetime.
     */
    PERSISTENT
}
