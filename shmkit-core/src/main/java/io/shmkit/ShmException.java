package io.shmkit;

import java.io.IOException;

/**
 * A shared-memory operation failed for a reason that has no more specific Java exception.
 *
 * <p>Where Java has an exception people already handle, shmkit uses it instead:
 * {@link java.nio.file.FileAlreadyExistsException} when creating a name that exists,
 * {@link java.nio.file.NoSuchFileException} when opening a name that does not, and
 * {@link java.nio.file.AccessDeniedException} for permissions and foreign owners. Those carry the
 * segment's name as their file and the OS error as their reason.
 */
public class ShmException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String segmentName;
    private final int errno;

    /**
     * An error with the segment it concerns and the OS error number behind it.
     *
     * @param segmentName the segment (or file) the operation was about, or null
     * @param message what went wrong, in words
     * @param errno the OS error number, or 0 when the failure did not come from the OS
     */
    public ShmException(String segmentName, String message, int errno) {
        super(message);
        this.segmentName = segmentName;
        this.errno = errno;
    }

    /**
     * An error caused by another exception.
     *
     * @param segmentName the segment (or file) the operation was about, or null
     * @param message what went wrong, in words
     * @param cause the underlying failure
     */
    public ShmException(String segmentName, String message, Throwable cause) {
        super(message, cause);
        this.segmentName = segmentName;
        this.errno = 0;
    }

    /**
     * The name of the segment (or the path of the file) the failed operation concerned.
     *
     * @return the name, or null when no single segment was involved
     */
    public String segmentName() {
        return segmentName;
    }

    /**
     * The OS error number (Linux {@code errno}) behind this failure.
     *
     * @return the error number, or 0 when the failure was detected by shmkit itself
     */
    public int errno() {
        return errno;
    }
}
