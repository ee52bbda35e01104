package io.shmkit;

import io.shmkit.internal.layout.HeaderDescriptor;
import io.shmkit.internal.layout.SemaphoreDescriptor;
import io.shmkit.internal.os.OsBackend;
import io.shmkit.internal.os.WaitWord;
import io.shmkit.internal.sync.Waiter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.shmkit.internal.layout.SemaphoreDescriptor.COUNT_OFFSET;
import static io.shmkit.internal.layout.SemaphoreDescriptor.MAX_OFFSET;
import static io.shmkit.internal.layout.SemaphoreDescriptor.WAITERS_OFFSET;

/**
 * A counting semaphore in shared memory with a maximum count: the Win32 semaphore object
 * ({@code CreateSemaphore(initial, max, name)}), usable from any number of processes.
 *
 * <pre>{@code
 * try (SharedSemaphore slots = SharedSemaphore.openOrCreate("gpu-slots", 2, 2)) {
 *     slots.acquire();
 *     try {
 *         useTheGpu();
 *     } finally {
 *         slots.release();
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #release(int)} beyond the maximum is refused with {@link IllegalStateException} and
 * changes nothing (Win32 {@code ERROR_TOO_MANY_POSTS}). Permits are not owned: any thread of any
 * process may release them, and permits taken by a process that dies are not given back (as with
 * POSIX and Win32 semaphores; use a {@link SharedMutex} when death must be detected).
 *
 * <p>Acquiring is interruptible and may be bounded; waiters sleep in the kernel (futex on Linux)
 * in slices of at most 20 ms, virtual threads park with a backoff of at most 2 ms. A release makes
 * a system call only when some thread sleeps, and then wakes all sleepers, which compete for the
 * permits (so that waiters for several permits are never overlooked). Instances are thread-safe.
 */
public final class SharedSemaphore implements AutoCloseable {

    /** Bytes a semaphore occupies in a segment. */
    public static final long SIZE = SemaphoreDescriptor.SIZE;
    /** Alignment its offset needs (by address). */
    public static final long ALIGNMENT = SemaphoreDescriptor.ALIGNMENT;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    private final MemorySegment mem;
    private final WaitWord waitWord;
    private final String segmentName;
    private final long segmentOffset;
    private final NamedObject named;
    private final int max;

    private SharedSemaphore(MemorySegment mem, String segmentName, long segmentOffset, NamedObject named) {
        this.mem = mem;
        this.segmentName = segmentName;
        this.segmentOffset = segmentOffset;
        this.named = named;
        this.max = mem.get(ValueLayout.JAVA_INT, MAX_OFFSET);
        this.waitWord = OsBackend.current().waitWord(mem.asSlice(COUNT_OFFSET, 4), segmentName,
                segmentOffset + COUNT_OFFSET);
    }

    // ---------------------------------------------------------------------------------------------
    // In a segment of yours

    /**
     * Writes a new semaphore at {@code offset} of the view (overwriting whatever was there).
     *
     * @param view a read-write view
     * @param offset where it starts; the address must be a multiple of {@link #ALIGNMENT}
     * @param initial the permits available at first, 0..max
     * @param max the maximum count, at least 1
     * @return the semaphore
     * @throws SegmentFormatException when {@link #SIZE} bytes do not fit there or the offset is misaligned
     * @throws IllegalArgumentException for bad counts or a view that is not read-write
     */
    public static SharedSemaphore initialize(View view, long offset, int initial, int max)
            throws SegmentFormatException {
        checkCounts(initial, max);
        MemorySegment mem = place(view, offset);
        SemaphoreDescriptor.initialize(mem, initial, max);
        return new SharedSemaphore(mem, view.segment().name(), view.offset() + offset, null);
    }

    /**
     * The semaphore that {@link #initialize} wrote at {@code offset} of the view.
     *
     * @param view a read-write view
     * @param offset where it starts
     * @return the semaphore
     * @throws SegmentFormatException when there is no valid semaphore there, it does not fit, or
     *         the offset is misaligned
     * @throws IllegalArgumentException for a view that is not read-write
     */
    public static SharedSemaphore attach(View view, long offset) throws SegmentFormatException {
        MemorySegment mem = place(view, offset);
        SemaphoreDescriptor.check(mem, view.segment().name(), view.offset() + offset);
        return new SharedSemaphore(mem, view.segment().name(), view.offset() + offset, null);
    }

    private static MemorySegment place(View view, long offset) throws SegmentFormatException {
        return NamedObject.place(view, offset, SIZE, ALIGNMENT, "a semaphore");
    }

    private static void checkCounts(int initial, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("a semaphore's maximum count must be at least 1, not " + max);
        }
        if (initial < 0 || initial > max) {
            throw new IllegalArgumentException("a semaphore's initial count must be 0.." + max + ", not " + initial);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Named

    /**
     * Creates a named semaphore exclusively, with the default segment options.
     *
     * @param name the name, as for {@link SharedMemory#create}
     * @param initial the permits available at first, 0..max
     * @param max the maximum count, at least 1
     * @return the semaphore
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SharedSemaphore create(String name, int initial, int max) throws IOException {
        return create(name, initial, max, SegmentOptions.defaults());
    }

    /**
     * Creates a named semaphore exclusively.
     *
     * @param name the name
     * @param initial the permits available at first, 0..max
     * @param max the maximum count, at least 1
     * @param options permissions and lifetime of its segment
     * @return the semaphore
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SharedSemaphore create(String name, int initial, int max, SegmentOptions options)
            throws IOException {
        checkCounts(initial, max);
        return named(NamedObject.create(name, SIZE, options, m -> SemaphoreDescriptor.initialize(m, initial, max)));
    }

    /**
     * Opens an existing named semaphore.
     *
     * @param name the name
     * @return the semaphore
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws SegmentFormatException when the segment holds something else
     * @throws IOException for other failures
     */
    public static SharedSemaphore open(String name) throws IOException {
        return open(name, SegmentOptions.defaults());
    }

    /**
     * Opens an existing named semaphore with options.
     *
     * @param name the name
     * @param options access must be {@link Access#READ_WRITE}
     * @return the semaphore
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws IOException for other failures
     */
    public static SharedSemaphore open(String name, SegmentOptions options) throws IOException {
        requireReadWrite(options);
        return named(NamedObject.open(name, options, "semaphore", SemaphoreDescriptor.MAGIC, SIZE));
    }

    /**
     * Opens the named semaphore, or creates it when there is none (an existing one keeps its
     * counts, as with Win32 {@code CreateSemaphore}).
     *
     * @param name the name
     * @param initial the initial count, if it is created
     * @param max the maximum count, if it is created
     * @return the semaphore
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SharedSemaphore openOrCreate(String name, int initial, int max) throws IOException {
        return openOrCreate(name, initial, max, SegmentOptions.defaults());
    }

    /**
     * Opens the named semaphore, or creates it with {@code options} when there is none.
     *
     * @param name the name
     * @param initial the initial count, if it is created
     * @param max the maximum count, if it is created
     * @param options options for creating, and access (read-write) for either case
     * @return the semaphore; {@link #wasCreated()} tells which happened
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SharedSemaphore openOrCreate(String name, int initial, int max, SegmentOptions options)
            throws IOException {
        checkCounts(initial, max);
        requireReadWrite(options);
        return named(NamedObject.openOrCreate(name, SIZE, SIZE, options, "semaphore", SemaphoreDescriptor.MAGIC,
                m -> SemaphoreDescriptor.initialize(m, initial, max)));
    }

    private static void requireReadWrite(SegmentOptions options) {
        NamedObject.requireReadWrite(options, "a semaphore");
    }

    private static SharedSemaphore named(NamedObject object) throws IOException {
        try {
            MemorySegment mem = object.view.memory().asSlice(0, SIZE);
            SemaphoreDescriptor.check(mem, object.segment.name(), 0);
            return new SharedSemaphore(mem, object.segment.name(), 0, object);
        } catch (IOException | RuntimeException e) {
            object.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Operations

    /**
     * Takes one permit, waiting until one is available.
     *
     * @throws InterruptedException when interrupted while waiting (nothing is taken)
     */
    public void acquire() throws InterruptedException {
        acquire(1);
    }

    /**
     * Takes {@code permits} permits at once, waiting until that many are available.
     *
     * @param permits 1..{@link #maxPermits()}
     * @throws InterruptedException when interrupted while waiting (nothing is taken)
     */
    public void acquire(int permits) throws InterruptedException {
        if (!acquire(permits, -1L)) {
            throw new AssertionError("an untimed wait timed out");
        }
    }

    /**
     * Takes one permit if one is available now.
     *
     * @return true when taken
     */
    public boolean tryAcquire() {
        return tryAcquire(1);
    }

    /**
     * Takes {@code permits} permits if that many are available now.
     *
     * @param permits 1..{@link #maxPermits()}
     * @return true when taken
     */
    public boolean tryAcquire(int permits) {
        checkPermits(permits);
        return tryTake(permits);
    }

    /**
     * Takes one permit, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait; zero or negative: do not wait
     * @return true when taken, false when the time ran out
     * @throws InterruptedException when interrupted while waiting (nothing is taken)
     */
    public boolean tryAcquire(Duration timeout) throws InterruptedException {
        return tryAcquire(1, timeout);
    }

    /**
     * Takes {@code permits} permits, waiting at most {@code timeout}.
     *
     * @param permits 1..{@link #maxPermits()}
     * @param timeout how long to wait; zero or negative: do not wait
     * @return true when taken, false when the time ran out
     * @throws InterruptedException when interrupted while waiting (nothing is taken)
     */
    public boolean tryAcquire(int permits, Duration timeout) throws InterruptedException {
        return acquire(permits, Math.max(0, SharedMutex.toNanos(timeout)));
    }

    /**
     * Takes one permit, waiting at most the given time.
     *
     * @param time how long to wait; zero or negative: do not wait
     * @param unit the unit of {@code time}
     * @return true when taken, false when the time ran out
     * @throws InterruptedException when interrupted while waiting (nothing is taken)
     */
    public boolean tryAcquire(long time, TimeUnit unit) throws InterruptedException {
        return acquire(1, Math.max(0, unit.toNanos(time)));
    }

    private boolean acquire(int permits, long timeoutNanos) throws InterruptedException {
        checkPermits(permits);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (tryTake(permits)) {
            return true;
        }
        return timeoutNanos != 0 && acquireSlow(permits, timeoutNanos);
    }

    private boolean tryTake(int permits) {
        MemorySegment m = mem;
        while (true) {
            int c = (int) INT.getVolatile(m, COUNT_OFFSET);
            if (c < permits || c > max) {
                checkCount(c);
                return false;
            }
            // SYNC POINT: volatile CAS: pairs with the CAS in release(); what the releaser wrote
            // before release() is visible to the thread that takes the permit.
            if ((boolean) INT.compareAndSet(m, COUNT_OFFSET, c, c - permits)) {
                return true;
            }
        }
    }

    private boolean acquireSlow(int permits, long timeoutNanos) throws InterruptedException {
        final MemorySegment m = mem;
        final Waiter waiter = new Waiter(timeoutNanos, true);
        final boolean registered = !waiter.isVirtual();
        if (registered) {
            int unused = (int) INT.getAndAdd(m, WAITERS_OFFSET, 1);
        }
        try {
            int spins = Waiter.SPINS;
            while (true) {
                // SYNC POINT: volatile read after the volatile increment of the waiter count (see release()).
                int c = (int) INT.getVolatile(m, COUNT_OFFSET);
                if (c >= permits && c <= max) {
                    if ((boolean) INT.compareAndSet(m, COUNT_OFFSET, c, c - permits)) {
                        return true;
                    }
                    continue;
                }
                checkCount(c);
                if (spins > 0) {
                    spins--;
                    Thread.onSpinWait();
                    continue;
                }
                if (waiter.expired()) {
                    return false;
                }
                waiter.park(waitWord, c);
            }
        } finally {
            if (registered) {
                int unused = (int) INT.getAndAdd(m, WAITERS_OFFSET, -1);
            }
        }
    }

    /**
     * Gives one permit back.
     *
     * @throws IllegalStateException when the count is already at its maximum (nothing changes)
     */
    public void release() {
        release(1);
    }

    /**
     * Gives {@code permits} permits back (Win32 {@code ReleaseSemaphore}).
     *
     * @param permits at least 1
     * @throws IllegalStateException when the count would pass its maximum (nothing changes)
     */
    public void release(int permits) {
        if (permits < 1) {
            throw new IllegalArgumentException("release of " + permits + " permits: must be at least 1");
        }
        MemorySegment m = mem;
        while (true) {
            int c = (int) INT.getVolatile(m, COUNT_OFFSET);
            checkCount(c);
            if (permits > max - c) {
                throw new IllegalStateException("release of " + permits + " permits on " + this + " refused: it has "
                        + c + " of at most " + max + " (too many releases: ERROR_TOO_MANY_POSTS)");
            }
            // SYNC POINT: volatile CAS, then a volatile read of the waiter count (Dekker with acquireSlow).
            if ((boolean) INT.compareAndSet(m, COUNT_OFFSET, c, c + permits)) {
                break;
            }
        }
        if ((int) INT.getVolatile(m, WAITERS_OFFSET) != 0) {
            waitWord.wake(Integer.MAX_VALUE);
        }
    }

    private void checkPermits(int permits) {
        if (permits < 1 || permits > max) {
            throw new IllegalArgumentException(permits + " permits asked of " + this + ": must be 1.." + max);
        }
    }

    private void checkCount(int c) {
        if (c < 0 || c > max) {
            throw HeaderDescriptor.corrupted(new SegmentFormatException(segmentName, segmentOffset,
                    "semaphore: the count holds " + c + ", outside 0.." + max));
        }
    }

    /** @return the permits available now (a snapshot) */
    public int availablePermits() {
        return (int) INT.getVolatile(mem, COUNT_OFFSET);
    }

    /** @return the maximum count */
    public int maxPermits() {
        return max;
    }

    /** @return the segment the semaphore lives in */
    public String segmentName() {
        return segmentName;
    }

    /** @return where the semaphore starts in its segment */
    public long offset() {
        return segmentOffset;
    }

    /** @return for a named semaphore, whether this call created it; false for attached ones */
    public boolean wasCreated() {
        return named != null && named.created;
    }

    /** For a named semaphore, releases this process's handle to its segment; for an attached one, does nothing. */
    @Override
    public void close() {
        if (named != null) {
            named.close();
        }
    }

    @Override
    public String toString() {
        return "SharedSemaphore[" + segmentName + (segmentOffset != 0 || named == null ? "@" + segmentOffset : "")
                + ", max " + max + "]";
    }
}
