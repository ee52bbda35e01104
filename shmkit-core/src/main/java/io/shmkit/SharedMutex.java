package io.shmkit;

import io.shmkit.internal.layout.HeaderDescriptor;
import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.internal.os.OsBackend;
import io.shmkit.internal.os.ProcessWatch;
import io.shmkit.internal.os.WaitWord;
import io.shmkit.internal.sync.ProcessIdentity;
import io.shmkit.internal.sync.Waiter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import static io.shmkit.internal.layout.MutexDescriptor.ABANDON_COUNT_OFFSET;
import static io.shmkit.internal.layout.MutexDescriptor.CONSISTENT;
import static io.shmkit.internal.layout.MutexDescriptor.DEAD_OWNER_PID_OFFSET;
import static io.shmkit.internal.layout.MutexDescriptor.INCONSISTENT;
import static io.shmkit.internal.layout.MutexDescriptor.LOCK_WORD_OFFSET;
import static io.shmkit.internal.layout.MutexDescriptor.OWNER_THREAD_OFFSET;
import static io.shmkit.internal.layout.MutexDescriptor.STATE_OFFSET;
import static io.shmkit.internal.layout.MutexDescriptor.WAITERS;

/**
 * A robust mutual-exclusion lock in shared memory, usable from any number of processes and
 * threads: the Win32 named mutex ({@code CreateMutex(name)}), or a process-shared robust
 * {@code pthread_mutex_t}, in Java.
 *
 * <pre>{@code
 * try (SharedMutex mutex = SharedMutex.openOrCreate("orders-lock")) {
 *     try (SharedMutex.Guard held = mutex.lock()) {
 *         if (held.ownerDied()) {          // a previous owner died holding it (WAIT_ABANDONED)
 *             repairTheSharedData();
 *             held.markConsistent();
 *         }
 *         updateTheSharedData();
 *     }                                     // unlocked here
 * }
 * }</pre>
 *
 * <h2>Where it lives</h2>
 * Either as a named object of its own ({@link #openOrCreate(String)}: a 64-byte segment holding
 * just the mutex, which {@code shm info} shows as a mutex), or at an offset of a segment of yours,
 * beside the data it protects ({@link #initialize(View, long)} once, then {@link #attach(View, long)}
 * in every process). The bytes are documented (see {@code docs/sync.md}), so C programs can take part.
 *
 * <h2>Ownership</h2>
 * The lock is held by a Java {@link Thread} of a process, never by an OS thread: a virtual thread
 * may hold it across blocking calls, unmounting and remounting on other carriers, and still
 * unlock it. Only the holding thread may unlock ({@link IllegalMonitorStateException} otherwise).
 * It is not reentrant: locking it again from the holding thread throws
 * {@link IllegalMonitorStateException} instead of deadlocking.
 *
 * <h2>Robustness</h2>
 * When the holder's process dies, however it dies (SIGKILL included), a waiter notices within
 * about 20 ms (one parking slice) and takes the lock over. The lock word records the owner's pid
 * and process start time, set by the same atomic instruction that takes the lock, so a pid reused
 * by another process is not taken for the owner. The new owner is told: {@link Guard#ownerDied()}
 * (and {@link #isConsistent()}) report that the protected data may be half-updated, until some
 * owner calls {@link #markConsistent()}. Unlike pthreads, a mutex left unrepaired does not become
 * unusable: every next owner is told again. A <em>thread</em> that ends while holding the lock in
 * a process that goes on living leaves it held (as with {@code ReentrantLock}); only process death
 * is detected.
 *
 * <h2>Cost and waiting</h2>
 * An uncontended lock and unlock is one compare-and-swap each, with no system call and no
 * allocation. A contended locker spins briefly, then sleeps in the kernel (futex on Linux) in
 * slices of at most 20 ms, between which it checks interrupts, its deadline and the owner's
 * liveness; an idle waiter uses no CPU beyond those checks. Virtual threads never sleep in the
 * kernel (that would pin their carrier): they park with an exponential backoff of at most 2 ms.
 *
 * <h2>Interrupts and timeouts</h2>
 * As in {@code java.util.concurrent}: {@link #lock()} waits uninterruptibly and keeps the interrupt
 * status; {@link #lockInterruptibly()} and {@link #tryLock(Duration)} throw
 * {@link InterruptedException}; {@link #tryLock(Duration)} returns false when the time runs out.
 * Platform threads notice an interrupt within one slice (20 ms), virtual threads at once.
 *
 * <p>Instances are thread-safe. Closing a named mutex releases this process's handle to its
 * segment; closing an attached one does nothing (the view is yours).
 */
public final class SharedMutex implements AutoCloseable {

    /** Bytes a mutex occupies in a segment. */
    public static final long SIZE = MutexDescriptor.SIZE;
    /** Alignment its offset needs (by address); 64 keeps it on a cache line of its own. */
    public static final long ALIGNMENT = MutexDescriptor.ALIGNMENT;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    /** How long one owner must have held the lock before a waiter starts checking its liveness. */
    private static final long CHECK_AFTER_NANOS = 5_000_000L;
    /** Least time between two liveness checks of one waiter. */
    private static final long CHECK_EVERY_NANOS = 10_000_000L;

    private final MemorySegment mem;
    private final WaitWord waitWord;
    private final String segmentName;
    private final long segmentOffset;
    private final NamedObject named;
    private final long tag;
    private final Guard guard = new Guard();

    SharedMutex(MemorySegment mem, String segmentName, long segmentOffset, NamedObject named) {
        this.mem = mem;
        this.segmentName = segmentName;
        this.segmentOffset = segmentOffset;
        this.named = named;
        this.tag = ProcessIdentity.tag();
        this.waitWord = OsBackend.current().waitWord(mem.asSlice(LOCK_WORD_OFFSET, 4), segmentName,
                segmentOffset + LOCK_WORD_OFFSET);
    }

    // ---------------------------------------------------------------------------------------------
    // In a segment of yours

    /**
     * Writes a new, free mutex at {@code offset} of the view (overwriting whatever was there) and
     * returns it. Do this once, before other processes {@link #attach} it; initialising a mutex
     * that others use breaks it.
     *
     * @param view a read-write view
     * @param offset where the mutex starts in the view; the address must be a multiple of {@link #ALIGNMENT}
     * @return the mutex
     * @throws SegmentFormatException when {@link #SIZE} bytes do not fit there or the offset is misaligned
     * @throws IllegalArgumentException for a view that is not read-write
     */
    public static SharedMutex initialize(View view, long offset) throws SegmentFormatException {
        MemorySegment mem = place(view, offset);
        MutexDescriptor.initialize(mem, ProcessIdentity.pidNamespace());
        return new SharedMutex(mem, view.segment().name(), view.offset() + offset, null);
    }

    /**
     * The mutex that {@link #initialize} wrote at {@code offset} of the view (in this or another process).
     *
     * @param view a read-write view
     * @param offset where the mutex starts in the view
     * @return the mutex
     * @throws SegmentFormatException when there is no valid mutex there (magic, version, garbage in
     *         its words), it does not fit, or the offset is misaligned
     * @throws ShmException when it was created in another pid namespace (see {@code docs/sync.md})
     * @throws IllegalArgumentException for a view that is not read-write
     */
    public static SharedMutex attach(View view, long offset) throws ShmException {
        MemorySegment mem = place(view, offset);
        verify(mem, view.segment().name(), view.offset() + offset);
        return new SharedMutex(mem, view.segment().name(), view.offset() + offset, null);
    }

    private static void format(MemorySegment mem) {
        MutexDescriptor.initialize(mem, ProcessIdentity.pidNamespace());
    }

    /** Checks the bytes, and that this process can judge its owners' pids. */
    static void verify(MemorySegment mem, String segmentName, long at) throws ShmException {
        MutexDescriptor.check(mem, segmentName, at);
        MutexDescriptor.checkPidNamespace(mem, ProcessIdentity.pidNamespace(), segmentName, at);
    }

    private static MemorySegment place(View view, long offset) throws SegmentFormatException {
        return NamedObject.place(view, offset, SIZE, ALIGNMENT, "a mutex");
    }

    // ---------------------------------------------------------------------------------------------
    // Named, a segment of its own

    /**
     * Creates a named mutex exclusively, with the default segment options (permissions 0600;
     * gone when the last process holding it closes it, like a Win32 named mutex).
     *
     * @param name the name, as for {@link SharedMemory#create}
     * @return the new, free mutex
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SharedMutex create(String name) throws IOException {
        return create(name, SegmentOptions.defaults());
    }

    /**
     * Creates a named mutex exclusively.
     *
     * @param name the name
     * @param options permissions and lifetime of its segment ({@link Lifetime#PERSISTENT} keeps it,
     *                and with it the record of an owner that died, when no process holds it)
     * @return the new, free mutex
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SharedMutex create(String name, SegmentOptions options) throws IOException {
        return named(NamedObject.create(name, SIZE, options, SharedMutex::format));
    }

    /**
     * Opens an existing named mutex.
     *
     * @param name the name
     * @return the mutex
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws SegmentFormatException when the segment holds something else
     * @throws IOException for other failures
     */
    public static SharedMutex open(String name) throws IOException {
        return open(name, SegmentOptions.defaults());
    }

    /**
     * Opens an existing named mutex with options (for example {@link SegmentOptions#allowForeignOwner()}).
     *
     * @param name the name
     * @param options access must be {@link Access#READ_WRITE}
     * @return the mutex
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws SegmentFormatException when the segment holds something else
     * @throws IOException for other failures
     */
    public static SharedMutex open(String name, SegmentOptions options) throws IOException {
        requireReadWrite(options);
        return named(NamedObject.open(name, options, "mutex", MutexDescriptor.MAGIC, SIZE));
    }

    /**
     * Opens the named mutex, or creates it (with the default options) when there is none.
     *
     * @param name the name
     * @return the mutex
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SharedMutex openOrCreate(String name) throws IOException {
        return openOrCreate(name, SegmentOptions.defaults());
    }

    /**
     * Opens the named mutex, or creates it with {@code options} when there is none.
     *
     * @param name the name
     * @param options options for creating, and access (read-write) for either case
     * @return the mutex; {@link #wasCreated()} tells which happened
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SharedMutex openOrCreate(String name, SegmentOptions options) throws IOException {
        requireReadWrite(options);
        return named(NamedObject.openOrCreate(name, SIZE, SIZE, options, "mutex", MutexDescriptor.MAGIC,
                SharedMutex::format));
    }

    private static void requireReadWrite(SegmentOptions options) {
        NamedObject.requireReadWrite(options, "a mutex");
    }

    private static SharedMutex named(NamedObject object) throws IOException {
        try {
            MemorySegment mem = object.view.memory().asSlice(0, SIZE);
            verify(mem, object.segment.name(), 0);
            return new SharedMutex(mem, object.segment.name(), 0, object);
        } catch (IOException | RuntimeException e) {
            object.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Locking

    /**
     * Acquires the lock, waiting as long as it takes; an interrupt does not end the wait (the
     * interrupt status is kept). When the previous owner died holding it, the lock is taken over
     * and {@link Guard#ownerDied()} says so.
     *
     * @return a guard whose {@link Guard#close()} unlocks, for try-with-resources
     * @throws IllegalMonitorStateException when the current thread already holds it
     * @throws IllegalStateException when the lock word holds garbage (the cause is a {@link SegmentFormatException})
     */
    public Guard lock() {
        MemorySegment m = mem;
        // SYNC POINT: acquire. The CAS is a volatile read-modify-write: the previous owner's
        // writes, published by the release in unlock(), are visible after it succeeds.
        if ((boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, 0L, tag)) {
            LONG.setOpaque(m, OWNER_THREAD_OFFSET, currentThreadWord());
            return guard;
        }
        try {
            acquireSlow(-1, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError("an uninterruptible wait threw InterruptedException", impossible);
        }
        return guard;
    }

    /**
     * Acquires the lock unless the current thread is interrupted.
     *
     * @return a guard whose {@link Guard#close()} unlocks
     * @throws InterruptedException when interrupted before or while waiting (the lock is not taken)
     * @throws IllegalMonitorStateException when the current thread already holds it
     */
    public Guard lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        MemorySegment m = mem;
        // SYNC POINT: acquire, as in lock().
        if ((boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, 0L, tag)) {
            LONG.setOpaque(m, OWNER_THREAD_OFFSET, currentThreadWord());
            return guard;
        }
        acquireSlow(-1, true);
        return guard;
    }

    /**
     * Acquires the lock if it is free, or if its owner died (then taken over, and
     * {@link #isConsistent()} is false); never waits.
     *
     * @return true when the lock was acquired
     * @throws IllegalMonitorStateException when the current thread already holds it
     */
    public boolean tryLock() {
        MemorySegment m = mem;
        // SYNC POINT: acquire, as in lock().
        if ((boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, 0L, tag)) {
            LONG.setOpaque(m, OWNER_THREAD_OFFSET, currentThreadWord());
            return true;
        }
        return tryLockSlow();
    }

    /**
     * Acquires the lock, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait; zero or negative: do not wait
     * @return true when acquired, false when the time ran out
     * @throws InterruptedException when interrupted (the lock is not taken)
     * @throws IllegalMonitorStateException when the current thread already holds it
     */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        return tryLock(toNanos(timeout), TimeUnit.NANOSECONDS);
    }

    /**
     * Acquires the lock, waiting at most the given time.
     *
     * @param time how long to wait; zero or negative: do not wait
     * @param unit the unit of {@code time}
     * @return true when acquired, false when the time ran out
     * @throws InterruptedException when interrupted (the lock is not taken)
     * @throws IllegalMonitorStateException when the current thread already holds it
     */
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (tryLock()) {
            return true;
        }
        long nanos = unit.toNanos(time);
        return nanos > 0 && acquireSlow(nanos, true);
    }

    /**
     * Releases the lock. If waiters sleep in the kernel, one is woken.
     *
     * @throws IllegalMonitorStateException when the current thread does not hold it
     */
    public void unlock() {
        MemorySegment m = mem;
        long word = (long) LONG.getOpaque(m, LOCK_WORD_OFFSET);
        if ((word & ~WAITERS) != tag
                || (long) LONG.getOpaque(m, OWNER_THREAD_OFFSET) != currentThreadWord()) {
            throw notHeld(word);
        }
        LONG.setOpaque(m, OWNER_THREAD_OFFSET, 0L);
        // SYNC POINT: release. Everything the holder wrote (the protected data, the state word, the
        // cleared owner thread) happens-before the next owner's acquiring CAS.
        if (!(boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, tag, 0L)) {
            unlockContended();
        }
    }

    private void unlockContended() {
        // The waiters bit is set: free the word (a volatile swap, so it also releases) and wake one
        // sleeper, which competes for the word again and keeps the bit set if it loses.
        long unused = (long) LONG.getAndSet(mem, LOCK_WORD_OFFSET, 0L);
        waitWord.wake(1);
    }

    private IllegalMonitorStateException notHeld(long word) {
        if (word == 0) {
            return new IllegalMonitorStateException("unlock of " + this + ": it is not locked");
        }
        int pid = MutexDescriptor.ownerPid(word);
        if ((word & ~WAITERS) == tag) {
            long holder = MutexDescriptor.ownerThreadId((long) LONG.getOpaque(mem, OWNER_THREAD_OFFSET));
            return new IllegalMonitorStateException("unlock of " + this + ": it is held by another thread of this"
                    + " process (thread id " + holder + "), not by " + Thread.currentThread());
        }
        return new IllegalMonitorStateException("unlock of " + this + ": it is held by process " + pid
                + ", not by this one");
    }

    private boolean tryLockSlow() {
        long w = (long) LONG.getAcquire(mem, LOCK_WORD_OFFSET);
        if (w == 0) {
            return tryLock();
        }
        checkWord(w);
        long owner = w & ~WAITERS;
        if (owner == tag) {
            checkNotReentrant();
            return false;
        }
        // A dead owner would make tryLock() fail forever: check it now (a system call, but only
        // when the lock is taken).
        if (!ownerMayBeAlive(owner) && (boolean) LONG.compareAndSet(mem, LOCK_WORD_OFFSET, w, tag | WAITERS)) {
            takeOver(owner);
            return true;
        }
        return false;
    }

    /**
     * The contended path: spin briefly, then park in slices, checking interrupts, the deadline and
     * whether the owner is still alive.
     *
     * @param timeoutNanos negative for no limit
     * @return true when acquired, false when the deadline passed
     */
    private boolean acquireSlow(long timeoutNanos, boolean interruptible) throws InterruptedException {
        final MemorySegment m = mem;
        final long me = tag;
        final Waiter waiter = new Waiter(timeoutNanos, interruptible);
        int spins = Waiter.SPINS;
        long watched = 0;
        long watchedSince = 0;
        long lastCheck = 0;
        ProcessWatch watch = null;
        try {
            while (true) {
                long w = (long) LONG.getAcquire(m, LOCK_WORD_OFFSET);
                if (w == 0) {
                    // After sleeping in the kernel, others may still sleep there: take the lock with the
                    // waiters bit set so that our unlock wakes the next one (Drepper, "Futexes are tricky").
                    long mine = waiter.rounds() > 0 && !waiter.isVirtual() ? me | WAITERS : me;
                    // SYNC POINT: acquire, as in lock().
                    if ((boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, 0L, mine)) {
                        LONG.setOpaque(m, OWNER_THREAD_OFFSET, currentThreadWord());
                        return true;
                    }
                    continue;
                }
                checkWord(w);
                long owner = w & ~WAITERS;
                if (owner == me) {
                    checkNotReentrant();
                }
                if (spins > 0) {
                    spins--;
                    Thread.onSpinWait();
                    continue;
                }
                if (owner != me) {
                    long now = System.nanoTime();
                    if (owner != watched) {
                        watched = owner;
                        watchedSince = now;
                        if (watch != null) {
                            watch.close();
                            watch = null;
                        }
                    } else if (now - watchedSince >= CHECK_AFTER_NANOS && now - lastCheck >= CHECK_EVERY_NANOS) {
                        lastCheck = now;
                        if (watch == null) {
                            // Opened once per owner; later checks are one cheap poll on Linux.
                            watch = OsBackend.current().watch(MutexDescriptor.ownerPid(owner),
                                    MutexDescriptor.ownerStartLow32(owner));
                        }
                        if (!watch.mayBeAlive()) {
                            // SYNC POINT: acquire; the CAS fails if the owner released (or someone else
                            // took over) meanwhile, and we simply go round again.
                            if ((boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, w, me | WAITERS)) {
                                takeOver(owner);
                                return true;
                            }
                            continue;
                        }
                    }
                }
                if (waiter.expired()) {
                    passOnWakeUp(waiter);
                    return false;
                }
                if (!waiter.isVirtual() && (w & WAITERS) == 0) {
                    if (!(boolean) LONG.compareAndSet(m, LOCK_WORD_OFFSET, w, w | WAITERS)) {
                        continue;
                    }
                    w |= WAITERS;
                }
                try {
                    waiter.park(waitWord, (int) w);
                } catch (InterruptedException e) {
                    passOnWakeUp(waiter);
                    throw e;
                }
            }
        } finally {
            if (watch != null) {
                watch.close();
            }
            waiter.finish();
        }
    }

    /**
     * Leaving without the lock after having slept in the kernel (out of time, or interrupted): an
     * unlock wakes one sleeper and clears the waiters bit, and the one it woke may have been us.
     * Unless the word has the waiters bit again (its owner's unlock will wake someone), wake one
     * sleeper in our place; otherwise the others would sleep on beside a free lock.
     */
    private void passOnWakeUp(Waiter waiter) {
        if (waiter.rounds() > 0 && !waiter.isVirtual()
                && ((long) LONG.getVolatile(mem, LOCK_WORD_OFFSET) & WAITERS) == 0) {
            waitWord.wake(1);
        }
    }

    private boolean ownerMayBeAlive(long owner) {
        return OsBackend.current().mayBeAlive(MutexDescriptor.ownerPid(owner), MutexDescriptor.ownerStartLow32(owner));
    }

    /** Just took the lock from a dead owner: record who holds it now, who died, and that the data may be torn. */
    private void takeOver(long deadOwner) {
        MemorySegment m = mem;
        LONG.setOpaque(m, OWNER_THREAD_OFFSET, currentThreadWord());
        INT.setOpaque(m, STATE_OFFSET, INCONSISTENT);
        INT.setOpaque(m, DEAD_OWNER_PID_OFFSET, MutexDescriptor.ownerPid(deadOwner));
        long count = (long) LONG.getOpaque(m, ABANDON_COUNT_OFFSET);
        LONG.setOpaque(m, ABANDON_COUNT_OFFSET, count + 1);
    }

    /**
     * The owner-thread word of the current thread: this process's pid beside the thread's id. Java
     * numbers threads per process, so the same id is the same thread only together with the pid;
     * with the id alone, a thread could take a lock held by a thread of another process (with the
     * same id) for its own, for instance between reading a lock word of its own process and reading
     * the owner thread written by the next holder.
     */
    private long currentThreadWord() {
        return MutexDescriptor.ownerThreadWord(MutexDescriptor.ownerPid(tag), Thread.currentThread().threadId());
    }

    private void checkNotReentrant() {
        if ((long) LONG.getOpaque(mem, OWNER_THREAD_OFFSET) == currentThreadWord()) {
            throw new IllegalMonitorStateException(this + " is already held by the current thread;"
                    + " SharedMutex is not reentrant");
        }
    }

    private void checkWord(long w) {
        String problem = MutexDescriptor.problemWithWord(w);
        if (problem != null) {
            throw HeaderDescriptor.corrupted(
                    new SegmentFormatException(segmentName, segmentOffset, "mutex: " + problem));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // State

    /**
     * Whether the data the mutex protects is consistent: false from the moment a lock is taken
     * over from an owner that died holding it until an owner calls {@link #markConsistent()}.
     * The Win32 {@code WAIT_ABANDONED} and pthread {@code EOWNERDEAD} case.
     *
     * @return true when no owner died holding it since it was last marked consistent
     * @throws IllegalStateException when the state word holds garbage
     */
    public boolean isConsistent() {
        int state = (int) INT.getAcquire(mem, STATE_OFFSET);
        if (state != CONSISTENT && state != INCONSISTENT) {
            try {
                MutexDescriptor.checkState(state, segmentName, segmentOffset);
            } catch (SegmentFormatException e) {
                throw HeaderDescriptor.corrupted(e);
            }
        }
        return state == CONSISTENT;
    }

    /**
     * Declares the protected data repaired after an owner died: later owners are no longer told.
     * Only the holder may call it.
     *
     * @throws IllegalMonitorStateException when the current thread does not hold the lock
     */
    public void markConsistent() {
        if (!isHeldByCurrentThread()) {
            throw new IllegalMonitorStateException("markConsistent() of " + this + " needs the lock held by "
                    + Thread.currentThread());
        }
        // Published to the next owner by the release in unlock().
        INT.setOpaque(mem, STATE_OFFSET, CONSISTENT);
    }

    /** @return whether the current thread holds the lock */
    public boolean isHeldByCurrentThread() {
        long w = (long) LONG.getOpaque(mem, LOCK_WORD_OFFSET);
        return (w & ~WAITERS) == tag
                && (long) LONG.getOpaque(mem, OWNER_THREAD_OFFSET) == currentThreadWord();
    }

    /** @return whether some thread of some process holds the lock (a snapshot) */
    public boolean isLocked() {
        return (long) LONG.getOpaque(mem, LOCK_WORD_OFFSET) != 0;
    }

    /** @return the process id of the holder, or 0 when free (a snapshot) */
    public int ownerPid() {
        return MutexDescriptor.ownerPid((long) LONG.getOpaque(mem, LOCK_WORD_OFFSET));
    }

    /** @return how many times the lock was taken over from an owner that died holding it */
    public long abandonCount() {
        return (long) LONG.getOpaque(mem, ABANDON_COUNT_OFFSET);
    }

    /**
     * The process id of the last owner that died holding the lock, for messages such as "the
     * previous owner (pid 4242) died".
     *
     * @return the pid, or 0 when no owner ever died holding it
     */
    public int lastDeadOwnerPid() {
        return (int) INT.getOpaque(mem, DEAD_OWNER_PID_OFFSET);
    }

    /** @return the segment the mutex lives in */
    public String segmentName() {
        return segmentName;
    }

    /** @return where the mutex starts in its segment */
    public long offset() {
        return segmentOffset;
    }

    /** @return for a named mutex, whether this call created it; false for attached ones */
    public boolean wasCreated() {
        return named != null && named.created;
    }

    /**
     * This mutex as a {@link Lock}, for code written against {@code java.util.concurrent}.
     * {@link Lock#newCondition()} is not supported. Owner death is reported through
     * {@link #isConsistent()}.
     *
     * @return a view of this mutex; no new state
     */
    public Lock asLock() {
        return new Lock() {
            @Override
            public void lock() {
                SharedMutex.this.lock();
            }

            @Override
            public void lockInterruptibly() throws InterruptedException {
                SharedMutex.this.lockInterruptibly();
            }

            @Override
            public boolean tryLock() {
                return SharedMutex.this.tryLock();
            }

            @Override
            public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
                return SharedMutex.this.tryLock(time, unit);
            }

            @Override
            public void unlock() {
                SharedMutex.this.unlock();
            }

            @Override
            public Condition newCondition() {
                throw new UnsupportedOperationException("SharedMutex has no conditions; use a SharedEvent");
            }
        };
    }

    /**
     * For a named mutex, releases this process's handle to its segment; for an attached one,
     * does nothing. A lock held by this process stays held: it is released by {@link #unlock()}
     * before closing, or taken over by a waiter when this process exits.
     */
    @Override
    public void close() {
        if (named != null) {
            named.close();
        }
    }

    @Override
    public String toString() {
        return "SharedMutex[" + segmentName + (segmentOffset != 0 || named == null ? "@" + segmentOffset : "") + "]";
    }

    static long toNanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return timeout.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * The lock, held: returned by {@link #lock()} so that try-with-resources unlocks it. One per
     * mutex (no allocation per lock); it acts for whichever thread holds the lock.
     */
    public final class Guard implements AutoCloseable {

        private Guard() {
        }

        /**
         * Whether an owner died holding this lock and nobody marked the data consistent since:
         * the protected data may be half-updated. Repair it, then call {@link #markConsistent()}.
         *
         * @return true when the data may be inconsistent
         */
        public boolean ownerDied() {
            return !isConsistent();
        }

        /** Declares the protected data repaired; see {@link SharedMutex#markConsistent()}. */
        public void markConsistent() {
            SharedMutex.this.markConsistent();
        }

        /** @return the mutex */
        public SharedMutex mutex() {
            return SharedMutex.this;
        }

        /** Unlocks; see {@link SharedMutex#unlock()}. */
        @Override
        public void close() {
            unlock();
        }
    }
}
