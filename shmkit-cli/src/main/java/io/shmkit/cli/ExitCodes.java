package io.shmkit.cli;

import picocli.CommandLine;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.TimeoutException;

/**
 * The exit codes of {@code shm}, one per kind of outcome, so that scripts can tell a missing
 * segment from a taken name or a permission problem without parsing messages.
 */
public final class ExitCodes {

    /** The command did what was asked. */
    public static final int OK = 0;
    /** A failure with no more specific code: an OS error, a lost peer, an internal error. */
    public static final int FAILURE = 1;
    /** Bad arguments: an unknown option, a bad size, duration or name (picocli's default code for these). */
    public static final int USAGE = 2;
    /** The segment does not exist (or disappeared). */
    public static final int NOT_FOUND = 3;
    /** A segment of that name exists already. */
    public static final int ALREADY_EXISTS = 4;
    /** Permissions forbid it, or the segment belongs to another user (see {@code --allow-foreign}). */
    public static final int PERMISSION_DENIED = 5;
    /** A time limit ({@code --timeout}, or the tour's wait for its second process) ran out. */
    public static final int TIMED_OUT = 6;

    private ExitCodes() {
    }

    /**
     * The exit code for a failure, from the exception's type: the library reports each outcome
     * with the Java exception people already handle, so the type is the whole story.
     *
     * @param failure what a command threw
     * @return the exit code to end the process with
     */
    public static int forException(Throwable failure) {
        return switch (failure) {
            case NoSuchFileException _ -> NOT_FOUND;
            case FileAlreadyExistsException _ -> ALREADY_EXISTS;
            case AccessDeniedException _ -> PERMISSION_DENIED;
            case TimeoutException _ -> TIMED_OUT;
            case IllegalArgumentException _ -> USAGE;
            case CommandLine.ParameterException _ -> USAGE;
            default -> FAILURE;
        };
    }
}
