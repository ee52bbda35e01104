package io.shmkit.bench;

import io.shmkit.Segment;
import io.shmkit.SharedMemory;
import io.shmkit.SharedMutex;
import io.shmkit.View;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Uncontended lock + unlock, one thread: SharedMutex against ReentrantLock (process-local, the
 * floor) and a process-shared pthread mutex in the same shared segment, called through FFM
 * (plain and robust, with ordinary and "critical" downcalls).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MutexBench {

    private Segment segment;
    private View view;
    private SharedMutex shared;
    private final ReentrantLock reentrant = new ReentrantLock();
    private MemorySegment pthread;
    private MemorySegment pthreadRobust;

    @Setup
    public void setUp() throws Throwable {
        String name = "shmkit-bench-" + ProcessHandle.current().pid() + "-mutex";
        segment = SharedMemory.create(name, 4096);
        view = segment.map();
        shared = SharedMutex.initialize(view, 0);
        pthread = view.memory().asSlice(128, PthreadMutex.SIZE);
        PthreadMutex.init(pthread, false);
        pthreadRobust = view.memory().asSlice(192, PthreadMutex.SIZE);
        PthreadMutex.init(pthreadRobust, true);
    }

    @TearDown
    public void tearDown() {
        segment.close();
    }

    @Benchmark
    public void sharedMutex() {
        shared.lock();
        shared.unlock();
    }

    @Benchmark
    @SuppressWarnings("try") // the guard is deliberately unused: closing it is the point
    public void sharedMutexTryWithResources() {
        try (SharedMutex.Guard held = shared.lock()) {
            // the guard is preallocated: try-with-resources costs nothing extra
        }
    }

    @Benchmark
    public void reentrantLock() {
        reentrant.lock();
        reentrant.unlock();
    }

    @Benchmark
    public int pthreadMutexShared() throws Throwable {
        return (int) PthreadMutex.LOCK.invokeExact(pthread) + (int) PthreadMutex.UNLOCK.invokeExact(pthread);
    }

    @Benchmark
    public int pthreadMutexSharedCriticalDowncall() throws Throwable {
        return (int) PthreadMutex.LOCK_CRITICAL.invokeExact(pthread)
                + (int) PthreadMutex.UNLOCK_CRITICAL.invokeExact(pthread);
    }

    @Benchmark
    public int pthreadRobustMutexShared() throws Throwable {
        return (int) PthreadMutex.LOCK.invokeExact(pthreadRobust)
                + (int) PthreadMutex.UNLOCK.invokeExact(pthreadRobust);
    }
}
