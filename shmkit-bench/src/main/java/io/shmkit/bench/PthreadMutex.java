package io.shmkit.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A process-shared pthread mutex (glibc, x86-64/AArch64: {@code pthread_mutex_t} is 40 bytes)
 * in memory of a shared segment, driven through FFM: the baseline a C program would use.
 */
final class PthreadMutex {
    private PthreadMutex() {
    }

    /** sizeof(pthread_mutex_t) on x86-64 glibc. */
    static final long SIZE = 40;
    static final int PTHREAD_PROCESS_SHARED = 1;
    static final int PTHREAD_MUTEX_ROBUST = 1;

    private static final Linker LINKER = Linker.nativeLinker();

    @SuppressWarnings("restricted") // native access is the point; the jar enables it
    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(
                () -> new UnsatisfiedLinkError(name)), fd, options);
    }

    private static final FunctionDescriptor INT_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_INIT = handle("pthread_mutexattr_init", INT_PTR);
    private static final MethodHandle ATTR_SETPSHARED = handle("pthread_mutexattr_setpshared",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ATTR_SETROBUST = handle("pthread_mutexattr_setrobust",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle INIT = handle("pthread_mutex_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    /** Lock and unlock through ordinary downcalls (thread state transitions, as for any native call). */
    static final MethodHandle LOCK = handle("pthread_mutex_lock", INT_PTR);
    static final MethodHandle UNLOCK = handle("pthread_mutex_unlock", INT_PTR);
    /**
     * The same through "critical" downcalls: no thread state transition, the cheapest FFM call.
     * Allowed here only because an uncontended lock never blocks.
     */
    static final MethodHandle LOCK_CRITICAL = handle("pthread_mutex_lock", INT_PTR, Linker.Option.critical(false));
    static final MethodHandle UNLOCK_CRITICAL = handle("pthread_mutex_unlock", INT_PTR, Linker.Option.critical(false));

    /** Initialises a process-shared (and, if asked, robust) mutex at {@code mutex}. */
    static void init(MemorySegment mutex, boolean robust) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(16, 8);
            check("pthread_mutexattr_init", (int) ATTR_INIT.invokeExact(attr));
            check("pthread_mutexattr_setpshared", (int) ATTR_SETPSHARED.invokeExact(attr, PTHREAD_PROCESS_SHARED));
            if (robust) {
                check("pthread_mutexattr_setrobust", (int) ATTR_SETROBUST.invokeExact(attr, PTHREAD_MUTEX_ROBUST));
            }
            check("pthread_mutex_init", (int) INIT.invokeExact(mutex, attr));
        }
    }

    private static void check(String what, int result) {
        if (result != 0) {
            throw new IllegalStateException(what + " returned " + result);
        }
    }
}
