package io.shmkit;

/**
 * How a segment is opened and how a view maps it: the Win32 {@code FILE_MAP_READ},
 * {@code FILE_MAP_WRITE} and {@code FILE_MAP_COPY}.
 */
public enum Access {
    /** Reads only. A write through such a view throws {@link IllegalArgumentException}; it never crashes the JVM. */
    READ_ONLY,
    /** Reads and writes, shared: every process mapping the segment sees the writes. */
    READ_WRITE,
    /**
     * Reads what the segment holds, and writes into a private copy of the pages touched: writes
     * never reach the segment and no other process sees them (POSIX {@code MAP_PRIVATE}).
     */
    COPY_ON_WRITE
}
