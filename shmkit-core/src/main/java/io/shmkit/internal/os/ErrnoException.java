package io.shmkit.internal.os;

/**
 * A C library call failed; carries the function and {@code errno}. Internal: the backend turns it
 * into a public exception that names the segment (see {@link Errors}).
 */
public final class ErrnoException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String function;
    private final int errno;

    public ErrnoException(String function, int errno) {
        super(function + ": " + LibC.strerror(errno) + " (" + LibC.errnoName(errno) + ")", null, false, false);
        this.function = function;
        this.errno = errno;
    }

    public String function() {
        return function;
    }

    public int errno() {
        return errno;
    }

    /** "No such file or directory (ENOENT)". */
    public String reason() {
        return LibC.strerror(errno) + " (" + LibC.errnoName(errno) + ")";
    }
}
