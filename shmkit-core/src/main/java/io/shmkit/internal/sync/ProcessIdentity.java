package io.shmkit.internal.sync;

import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.internal.os.OsBackend;

/**
 * This process as lock words record it: pid and start time, read once. The start time is what
 * makes an owner tag survive pid reuse (see {@link MutexDescriptor}).
 */
public final class ProcessIdentity {

    private ProcessIdentity() {
    }

    private static final int PID;
    private static final long START_TIME;
    private static final long TAG;
    private static final long PID_NAMESPACE;

    static {
        OsBackend os = OsBackend.current();
        PID = os.currentPid();
        long start = os.processStartTime(PID);
        if (start < 0) {
            throw new IllegalStateException("cannot read this process's start time (/proc/" + PID
                    + "/stat): shmkit's robust locks need it to tell a dead owner from a reused pid");
        }
        START_TIME = start;
        TAG = MutexDescriptor.tag(PID, START_TIME);
        PID_NAMESPACE = os.pidNamespaceId();
    }

    /** This process's pid namespace ({@link OsBackend#pidNamespaceId()}), 0 when unknown. */
    public static long pidNamespace() {
        return PID_NAMESPACE;
    }

    /** This process's id. */
    public static int pid() {
        return PID;
    }

    /** This process's start time, in the backend's units. */
    public static long startTime() {
        return START_TIME;
    }

    /** This process's owner tag for lock words: never 0, never has the waiters bit. */
    public static long tag() {
        return TAG;
    }
}
