package io.shmkit;

import io.shmkit.internal.layout.EventDescriptor;
import io.shmkit.internal.os.OsBackend;
import io.shmkit.internal.os.WaitWord;
import io.shmkit.internal.sync.Waiter;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.shmkit.internal.layout.EventDescriptor.GENERATION_STEP;
import static io.shmkit.internal.layout.EventDescriptor.SIGNALED;
import static io.shmkit.internal.layout.EventDescriptor.STATE_OFFSET;
import static io.shmkit.internal.layout.EventDescriptor.WAITERS_OFFSET;

/**
 * An event in shared memory, the Win32 event object: threads of any process wait until another
 * thread (of any process) sets it. Waiters sleep in the kernel (futex on Linux), so a set wakes
 * them without any polling loop.
 *
 * <ul>
 *   <li><b>Manual reset</b> ({@code manualReset = true}): {@link #set()} releases every waiter and
 *   the event stays set, releasing later waiters at once, until {@link #reset()}. Threads that
 *   were waiting when it was set are released even if it is reset right after.</li>
 *   <li><b>Auto reset</b>: each {@link #set()} releases exactly one waiter and the event resets
 *   itself; with nobody waiting it stays set until one waiter comes. Setting a set event does
 *   nothing more (sets do not accumulate: use a {@link SharedSemaphore} to count).</li>
 * </ul>
 *
 * <pre>{@code
 * // process 1                                    // process 2
 * try (SharedEvent ready = SharedEvent             try (SharedEvent ready = SharedEvent
 *         .openOrCreate("ready", true)) {                 .openOrCreate("ready", true)) {
 *     ready.await();                                   prepare();
 *     ...                                              ready.set();
 * }                                                }
 * }</pre>
 *
 * <p>Waiting is interruptible ({@link InterruptedException}) and may be bounded
 * ({@link #await(Duration)} returns false when the time runs out). Platform threads sleep in the
 * kernel in slices of at most 20 ms, re-checking interrupts between them; virtual threads park
 * with a backoff of at most 2 ms and never pin their carrier (see {@code docs/sync.md}).
 * {@link #set()} makes a system call only when some thread sleeps on the event. The byte layout
 * is documented, so a C program can set or wait on the same event. Instances are thread-safe.
 */
public final class SharedEvent implements AutoCloseable {

    /** Bytes an event occupies in a segment. */
    public static final long SIZE = EventDescriptor.SIZE;
    /** Alignment its offset needs (by address). */
    public static final long ALIGNMENT = EventDescriptor.ALIGNMENT;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    private final MemorySegment mem;
    private final WaitWord waitWord;
    private final String segmentName;
    private final long segmentOffset;
    private final NamedObject named;
    private final boolean manualReset;

    private SharedEvent(MemorySegment mem, String segmentName, long segmentOffset, NamedObject named) {
        this.mem = mem;
        this.segmentName = segmentName;
        this.segmentOffset = segmentOffset;
        this.named = named;
        this.manualReset = EventDescriptor.manualReset(mem);
        this.waitWord = OsBackend.current().waitWord(mem.asSlice(STATE_OFFSET, 4), segmentName,
                segmentOffset + STATE_OFFSET);
    }

    // ---------------------------------------------------------------------------------------------
    // In a segment of yours

    /**
     * Writes a new, unset event at {@code offset} of the view (overwriting whatever was there).
     *
     * @param view a read-write view
     * @param offset where the event starts; the address must be a multiple of {@link #ALIGNMENT}
     * @param manualReset true for a manual-reset event, false for auto reset
     * @return the event
     * @throws SegmentFormatException when {@link #SIZE} bytes do not fit there or the offset is misaligned
     * @throws IllegalArgumentException for a view that is not read-write
     */
    public static SharedEvent initialize(View view, long offset, boolean manualReset) throws SegmentFormatException {
        MemorySegment mem = place(view, offset);
        EventDescriptor.initialize(mem, manualReset, false);
        return new SharedEvent(mem, view.segment().name(), view.offset() + offset, null);
    }

    /**
     * The event that {@link #initialize} wrote at {@code offset} of the view.
     *
     * @param view a read-write view
     * @param offset where the event starts
     * @return the event
     * @throws SegmentFormatException when there is no valid event there, it does not fit, or the
     *         offset is misaligned
     * @throws IllegalArgumentException for a view that is not read-write
     */
    public static SharedEvent attach(View view, long offset) throws SegmentFormatException {
        MemorySegment mem = place(view, offset);
        EventDescriptor.check(mem, view.segment().name(), view.offset() + offset);
        return new SharedEvent(mem, view.segment().name(), view.offset() + offset, null);
    }

    private static MemorySegment place(View view, long offset) throws SegmentFormatException {
        return NamedObject.place(view, offset, SIZE, ALIGNMENT, "an event");
    }

    // ---------------------------------------------------------------------------------------------
    // Named

    /**
     * Creates a named, unset event exclusively, with the default segment options (0600; gone
     * when the last process holding it closes it).
     *
     * @param name the name, as for {@link SharedMemory#create}
     * @param manualReset true for manual reset, false for auto reset
     * @return the event
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SharedEvent create(String name, boolean manualReset) throws IOException {
        return create(name, manualReset, SegmentOptions.defaults());
    }

    /**
     * Creates a named, unset event exclusively.
     *
     * @param name the name
     * @param manualReset true for manual reset, false for auto reset
     * @param options permissions and lifetime of its segment
     * @return the event
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SharedEvent create(String name, boolean manualReset, SegmentOptions options) throws IOException {
        return named(NamedObject.create(name, SIZE, options, m -> EventDescriptor.initialize(m, manualReset, false)));
    }

    /**
     * Opens an existing named event.
     *
     * @param name the name
     * @return the event, with the reset mode it was created with
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws SegmentFormatException when the segment holds something else
     * @throws IOException for other failures
     */
    public static SharedEvent open(String name) throws IOException {
        return open(name, SegmentOptions.defaults());
    }

    /**
     * Opens an existing named event with options.
     *
     * @param name the name
     * @param options access must be {@link Access#READ_WRITE}
     * @return the event
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws IOException for other failures
     */
    public static SharedEvent open(String name, SegmentOptions options) throws IOException {
        requireReadWrite(options);
        return named(NamedObject.open(name, options, "event", EventDescriptor.MAGIC, SIZE));
    }

    /**
     * Opens the named event, or creates it unset when there is none (Win32 {@code CreateEvent}:
     * an existing event keeps the reset mode it was created with; {@link #isManualReset()} says).
     *
     * @param name the name
     * @param manualReset the reset mode, if it is created
     * @return the event
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SharedEvent openOrCreate(String name, boolean manualReset) throws IOException {
        return openOrCreate(name, manualReset, SegmentOptions.defaults());
    }

    /**
     * Opens the named event, or creates it unset with {@code options} when there is none.
     *
     * @param name the name
     * @param manualReset the reset mode, if it is created
     * @param options options for creating, and access (read-write) for either case
     * @return the event; {@link #wasCreated()} tells which happened
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SharedEvent openOrCreate(String name, boolean manualReset, SegmentOptions options)
            throws IOException {
        requireReadWrite(options);
        return named(NamedObject.openOrCreate(name, SIZE, SIZE, options, "event", EventDescriptor.MAGIC,
                m -> EventDescriptor.initialize(m, manualReset, false)));
    }

    private static void requireReadWrite(SegmentOptions options) {
        NamedObject.requireReadWrite(options, "an event");
    }

    private static SharedEvent named(NamedObject object) throws IOException {
        try {
            MemorySegment mem = object.view.memory().asSlice(0, SIZE);
            EventDescriptor.check(mem, object.segment.name(), 0);
            return new SharedEvent(mem, object.segment.name(), 0, object);
        } catch (IOException | RuntimeException e) {
            object.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Operations

    /**
     * Sets the event (Win32 {@code SetEvent}): a manual-reset event releases every waiter and
     * stays set; an auto-reset event releases one waiter, or stays set until one comes.
     */
    public void set() {
        MemorySegment m = mem;
        int s;
        do {
            s = (int) INT.getVolatile(m, STATE_OFFSET);
            // SYNC POINT: the CAS is volatile: writes made before set() happen-before the return of a
            // waiter that observes the new word. It also orders the read of the waiter count below
            // after the new word (store-load): a waiter increments the count before it re-reads the
            // word, so either we see its registration or it sees the set (Dekker).
        } while (!(boolean) INT.compareAndSet(m, STATE_OFFSET, s, (s + GENERATION_STEP) | SIGNALED));
        if ((int) INT.getVolatile(m, WAITERS_OFFSET) != 0) {
            waitWord.wake(manualReset ? Integer.MAX_VALUE : 1);
        }
    }

    /** Resets the event to unset (Win32 {@code ResetEvent}); waiters keep waiting. */
    public void reset() {
        MemorySegment m = mem;
        int s;
        do {
            s = (int) INT.getVolatile(m, STATE_OFFSET);
            if ((s & SIGNALED) == 0) {
                return;
            }
        } while (!(boolean) INT.compareAndSet(m, STATE_OFFSET, s, s & ~SIGNALED));
    }

    /** @return whether the event is set now (a snapshot; it does not consume an auto-reset event) */
    public boolean isSet() {
        return ((int) INT.getAcquire(mem, STATE_OFFSET) & SIGNALED) != 0;
    }

    /** @return true for a manual-reset event, false for auto reset */
    public boolean isManualReset() {
        return manualReset;
    }

    /**
     * Waits until the event is set; an auto-reset event is reset by the waiter it releases.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public void await() throws InterruptedException {
        if (!await(-1L)) {
            throw new AssertionError("an untimed wait timed out");
        }
    }

    /**
     * Waits until the event is set, at most {@code timeout}.
     *
     * @param timeout how long to wait; zero or negative: only check
     * @return true when released by the event, false when the time ran out
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean await(Duration timeout) throws InterruptedException {
        return await(Math.max(0, SharedMutex.toNanos(timeout)));
    }

    /**
     * Waits until the event is set, at most the given time.
     *
     * @param time how long to wait; zero or negative: only check
     * @param unit the unit of {@code time}
     * @return true when released by the event, false when the time ran out
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        return await(Math.max(0, unit.toNanos(time)));
    }

    private boolean await(long timeoutNanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        MemorySegment m = mem;
        // SYNC POINT: acquire; pairs with the volatile CAS in set().
        int s = (int) INT.getAcquire(m, STATE_OFFSET);
        if ((s & SIGNALED) != 0 && (manualReset || (boolean) INT.compareAndSet(m, STATE_OFFSET, s, s & ~SIGNALED))) {
            return true;
        }
        return timeoutNanos != 0 && awaitSlow(s, timeoutNanos);
    }

    private boolean awaitSlow(int first, long timeoutNanos) throws InterruptedException {
        final MemorySegment m = mem;
        final Waiter waiter = new Waiter(timeoutNanos, true);
        // Virtual threads poll with backoff instead of sleeping on the word, so they need no wake-up.
        final boolean registered = !waiter.isVirtual();
        if (registered) {
            int unused = (int) INT.getAndAdd(m, WAITERS_OFFSET, 1);
        }
        boolean released = false;
        try {
            int generation = first & ~SIGNALED;
            while (true) {
                // SYNC POINT: volatile read after the volatile increment of the waiter count (see set()).
                int s = (int) INT.getVolatile(m, STATE_OFFSET);
                if (manualReset) {
                    // A set() since we started waiting releases us even if reset() followed it.
                    if ((s & SIGNALED) != 0 || (s & ~SIGNALED) != generation) {
                        released = true;
                        return true;
                    }
                } else if ((s & SIGNALED) != 0) {
                    if ((boolean) INT.compareAndSet(m, STATE_OFFSET, s, s & ~SIGNALED)) {
                        released = true;
                        return true;
                    }
                    continue;
                }
                if (waiter.expired()) {
                    return false;
                }
                waiter.park(waitWord, s);
            }
        } finally {
            if (registered) {
                int unused = (int) INT.getAndAdd(m, WAITERS_OFFSET, -1);
            }
            if (!released && !manualReset && registered) {
                passOnWakeUp();
            }
        }
    }

    /**
     * An auto-reset set() wakes one sleeper. If that was us and we leave without the signal
     * (timeout, interrupt), wake another so the signal is not left waiting for a slice to end.
     */
    private void passOnWakeUp() {
        if (isSet() && (int) INT.getVolatile(mem, WAITERS_OFFSET) != 0) {
            waitWord.wake(1);
        }
    }

    /** @return the segment the event lives in */
    public String segmentName() {
        return segmentName;
    }

    /** @return where the event starts in its segment */
    public long offset() {
        return segmentOffset;
    }

    /** @return for a named event, whether this call created it; false for attached ones */
    public boolean wasCreated() {
        return named != null && named.created;
    }

    /** For a named event, releases this process's handle to its segment; for an attached one, does nothing. */
    @Override
    public void close() {
        if (named != null) {
            named.close();
        }
    }

    @Override
    public String toString() {
        return "SharedEvent[" + segmentName + (segmentOffset != 0 || named == null ? "@" + segmentOffset : "")
                + (manualReset ? ", manual reset" : ", auto reset") + "]";
    }
}
