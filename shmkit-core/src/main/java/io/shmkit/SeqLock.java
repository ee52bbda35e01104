package io.shmkit;

import io.shmkit.internal.layout.HeaderDescriptor;
import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.internal.layout.SeqLockDescriptor;
import io.shmkit.internal.os.OsBackend;
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
import java.util.concurrent.locks.LockSupport;

import static io.shmkit.internal.layout.SeqLockDescriptor.FOLLOWERS_OFFSET;
import static io.shmkit.internal.layout.SeqLockDescriptor.LENGTH_OFFSET;
import static io.shmkit.internal.layout.SeqLockDescriptor.PAYLOAD_OFFSET;
import static io.shmkit.internal.layout.SeqLockDescriptor.SEQUENCE_OFFSET;
import static io.shmkit.internal.layout.SeqLockDescriptor.WRITER_MUTEX_OFFSET;

/**
 * A versioned value in shared memory (a seqlock): a writer publishes a whole new value of up to
 * {@link #capacity()} bytes, and any number of readers, in any processes, copy the latest one
 * without locking and without ever seeing a torn value (half old, half new).
 *
 * <pre>{@code
 * // publisher                                   // readers, anywhere
 * try (SeqLock quote = SeqLock                   try (SeqLock quote = SeqLock.open("quote")) {
 *         .openOrCreate("quote", 256)) {             byte[] latest = quote.read();
 *     quote.write(bytes);                            ...
 * }                                              }
 * }</pre>
 *
 * <p><b>How.</b> A sequence number is odd while a write is in progress and even when the value
 * is stable. A reader copies the value between two reads of the sequence and keeps the copy only
 * if both are the same even number; otherwise it tries again. Readers never write to the shared
 * memory, so a read-only mapping will do, and a reader can never slow a writer down. Writers
 * take a robust {@link SharedMutex} kept in the header, so several writers may share one value,
 * and a writer killed in the middle of a write is detected: readers then get a
 * {@link ShmException} saying so instead of waiting forever, and the next write repairs the value.
 *
 * <p><b>Versions.</b> Every completed write gets a higher version ({@link #version()}); 0 means
 * nothing was written yet. {@link #awaitChange(long, Duration)} sleeps until a newer version is
 * published, woken by the writer (futex on the sequence word on Linux): no polling loop.
 *
 * <p>Readers that find a write in progress spin, then yield, then park briefly. A reader waits at
 * most {@link #STUCK_WRITE_TIMEOUT} for one write to finish before it gives up with an exception.
 * Instances are thread-safe. The byte layout is documented so that C programs can read (or
 * write) the value; see {@code docs/sync.md}.
 */
public final class SeqLock implements AutoCloseable {

    /** Bytes of the header before the payload: a seqlock of capacity c occupies {@code HEADER_SIZE + c} bytes. */
    public static final long HEADER_SIZE = SeqLockDescriptor.PAYLOAD_OFFSET;
    /** Alignment its offset needs (by address). */
    public static final long ALIGNMENT = SeqLockDescriptor.ALIGNMENT;
    /** How long a reader waits for one write in progress to finish before giving up. */
    public static final Duration STUCK_WRITE_TIMEOUT = Duration.ofSeconds(5);

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle().withInvokeExactBehavior();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    /** How long a write may stay in progress before readers check whether its writer died. */
    private static final long DEATH_CHECK_AFTER_NANOS = 20_000_000L;

    private final MemorySegment mem;
    private final int capacity;
    private final boolean writable;
    private final SharedMutex writerMutex;
    private final WaitWord waitWord;
    private final String segmentName;
    private final long segmentOffset;
    private final NamedObject named;

    private SeqLock(MemorySegment mem, boolean writable, String segmentName, long segmentOffset, NamedObject named) {
        this.mem = mem;
        this.capacity = (int) SeqLockDescriptor.capacity(mem);
        this.writable = writable;
        this.segmentName = segmentName;
        this.segmentOffset = segmentOffset;
        this.named = named;
        this.writerMutex = writable
                ? new SharedMutex(mem.asSlice(WRITER_MUTEX_OFFSET, MutexDescriptor.SIZE), segmentName,
                        segmentOffset + WRITER_MUTEX_OFFSET, null)
                : null;
        // Read-only followers cannot register, so no writer would wake them: they park with backoff.
        this.waitWord = writable
                ? OsBackend.current().waitWord(mem.asSlice(SEQUENCE_OFFSET, 4), segmentName,
                        segmentOffset + SEQUENCE_OFFSET)
                : null;
    }

    /**
     * Bytes a seqlock with this capacity occupies.
     *
     * @param capacity the largest value, in bytes
     * @return {@link #HEADER_SIZE} + capacity
     */
    public static long sizeFor(int capacity) {
        checkCapacity(capacity);
        return SeqLockDescriptor.size(capacity);
    }

    private static void checkCapacity(long capacity) {
        if (capacity < 1 || capacity > SeqLockDescriptor.MAX_CAPACITY) {
            throw new IllegalArgumentException("a seqlock's capacity must be 1.." + SeqLockDescriptor.MAX_CAPACITY
                    + " bytes, not " + capacity);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // In a segment of yours

    /**
     * Writes a new, empty seqlock (version 0) at {@code offset} of the view, overwriting what was there.
     *
     * @param view a read-write view
     * @param offset where it starts; the address must be a multiple of {@link #ALIGNMENT}
     * @param capacity the largest value, in bytes; {@link #sizeFor(int)} bytes must fit
     * @return the seqlock
     * @throws SegmentFormatException when it does not fit or the offset is misaligned
     * @throws IllegalArgumentException for a bad capacity or a view that is not read-write
     */
    public static SeqLock initialize(View view, long offset, int capacity) throws SegmentFormatException {
        Objects.requireNonNull(view, "view");
        checkCapacity(capacity);
        if (view.access() != Access.READ_WRITE) {
            throw new IllegalArgumentException("initialising a seqlock needs a READ_WRITE view of segment \""
                    + view.segment().name() + "\", not " + view.access());
        }
        HeaderDescriptor.checkPlacement(view.memory(), offset, SeqLockDescriptor.size(capacity), ALIGNMENT,
                "seqlock", view.segment().name(), view.offset());
        MemorySegment mem = view.memory().asSlice(offset, SeqLockDescriptor.size(capacity));
        SeqLockDescriptor.initialize(mem, capacity, ProcessIdentity.pidNamespace());
        return new SeqLock(mem, true, view.segment().name(), view.offset() + offset, null);
    }

    /**
     * The seqlock that {@link #initialize} wrote at {@code offset} of the view. A read-only view
     * gives a seqlock that can be read and followed, not written.
     *
     * @param view a read-write or read-only view
     * @param offset where it starts
     * @return the seqlock
     * @throws SegmentFormatException when there is no valid seqlock there, it does not fit, or the
     *         offset is misaligned
     * @throws ShmException when it was created in another pid namespace (see {@code docs/sync.md})
     */
    public static SeqLock attach(View view, long offset) throws ShmException {
        Objects.requireNonNull(view, "view");
        if (view.access() == Access.COPY_ON_WRITE) {
            throw new IllegalArgumentException("a seqlock needs a shared view of segment \"" + view.segment().name()
                    + "\" (READ_WRITE or READ_ONLY), not COPY_ON_WRITE");
        }
        return attach(view.memory(), offset, view.access() == Access.READ_WRITE, view.segment().name(),
                view.offset(), null);
    }

    private static SeqLock attach(MemorySegment memory, long offset, boolean writable, String segmentName,
                                  long viewOffset, NamedObject named) throws ShmException {
        HeaderDescriptor.checkPlacement(memory, offset, HEADER_SIZE, ALIGNMENT, "seqlock", segmentName, viewOffset);
        MemorySegment rest = memory.asSlice(offset);
        SeqLockDescriptor.check(rest, rest.byteSize(), segmentName, viewOffset + offset);
        MutexDescriptor.checkPidNamespace(rest.asSlice(WRITER_MUTEX_OFFSET), ProcessIdentity.pidNamespace(),
                segmentName, viewOffset + offset + WRITER_MUTEX_OFFSET);
        MemorySegment mem = rest.asSlice(0, SeqLockDescriptor.size(SeqLockDescriptor.capacity(rest)));
        return new SeqLock(mem, writable, segmentName, viewOffset + offset, named);
    }

    // ---------------------------------------------------------------------------------------------
    // Named

    /**
     * Creates a named seqlock exclusively, with the default segment options.
     *
     * @param name the name, as for {@link SharedMemory#create}
     * @param capacity the largest value, in bytes
     * @return the seqlock, empty (version 0)
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SeqLock create(String name, int capacity) throws IOException {
        return create(name, capacity, SegmentOptions.defaults());
    }

    /**
     * Creates a named seqlock exclusively.
     *
     * @param name the name
     * @param capacity the largest value, in bytes
     * @param options permissions and lifetime of its segment
     * @return the seqlock, empty (version 0)
     * @throws java.nio.file.FileAlreadyExistsException when the name exists
     * @throws IOException for other failures
     */
    public static SeqLock create(String name, int capacity, SegmentOptions options) throws IOException {
        checkCapacity(capacity);
        return named(NamedObject.create(name, SeqLockDescriptor.size(capacity), options,
                m -> SeqLockDescriptor.initialize(m, capacity, ProcessIdentity.pidNamespace())));
    }

    /**
     * Opens an existing named seqlock for reading and writing.
     *
     * @param name the name
     * @return the seqlock
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws SegmentFormatException when the segment holds something else
     * @throws IOException for other failures
     */
    public static SeqLock open(String name) throws IOException {
        return open(name, SegmentOptions.defaults());
    }

    /**
     * Opens an existing named seqlock; with {@link Access#READ_ONLY} it can be read and followed, not written.
     *
     * @param name the name
     * @param options access (read-write or read-only), foreign owner
     * @return the seqlock
     * @throws java.nio.file.NoSuchFileException when there is none
     * @throws SegmentFormatException when the segment holds something else
     * @throws IOException for other failures
     */
    public static SeqLock open(String name, SegmentOptions options) throws IOException {
        return named(NamedObject.open(name, options, "seqlock", SeqLockDescriptor.MAGIC, HEADER_SIZE));
    }

    /**
     * Opens the named seqlock, or creates it empty when there is none.
     *
     * @param name the name
     * @param capacity the capacity, if it is created (an existing one keeps its own)
     * @return the seqlock
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SeqLock openOrCreate(String name, int capacity) throws IOException {
        return openOrCreate(name, capacity, SegmentOptions.defaults());
    }

    /**
     * Opens the named seqlock, or creates it with {@code options} when there is none.
     *
     * @param name the name
     * @param capacity the capacity, if it is created (an existing one keeps its own)
     * @param options options for creating, and access (read-write) for either case
     * @return the seqlock; {@link #wasCreated()} tells which happened
     * @throws SegmentFormatException when the name holds something else
     * @throws IOException for other failures
     */
    public static SeqLock openOrCreate(String name, int capacity, SegmentOptions options) throws IOException {
        checkCapacity(capacity);
        return named(NamedObject.openOrCreate(name, SeqLockDescriptor.size(capacity), HEADER_SIZE, options, "seqlock",
                SeqLockDescriptor.MAGIC,
                m -> SeqLockDescriptor.initialize(m, capacity, ProcessIdentity.pidNamespace())));
    }

    private static SeqLock named(NamedObject object) throws IOException {
        try {
            return attach(object.view.memory(), 0, object.view.access() == Access.READ_WRITE, object.segment.name(),
                    0, object);
        } catch (IOException | RuntimeException e) {
            object.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    /**
     * Publishes a new value: all of {@code value}.
     *
     * @param value the bytes, at most {@link #capacity()}
     * @return the new version
     * @throws IllegalArgumentException when the value is longer than the capacity
     * @throws IllegalStateException when opened read-only
     */
    public long write(byte[] value) {
        return publish(value, 0, null, value.length);
    }

    /**
     * Publishes a new value: {@code length} bytes of {@code src} from {@code offset}.
     *
     * @param src the array
     * @param offset where the value starts in it
     * @param length its length, at most {@link #capacity()}
     * @return the new version
     */
    public long write(byte[] src, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, src.length);
        return publish(src, offset, null, length);
    }

    /**
     * Publishes a new value: all bytes of {@code value}. Waits while another writer writes
     * (several writers are safe); a writer that died mid-write is taken over and its torn value
     * replaced.
     *
     * @param value the bytes (heap or native), at most {@link #capacity()}
     * @return the new version
     * @throws IllegalArgumentException when the value is longer than the capacity
     * @throws IllegalStateException when opened read-only
     */
    public long write(MemorySegment value) {
        return publish(null, 0, value, value.byteSize());
    }

    /** Copies from {@code array} when it is not null, else from {@code segment}: no wrapper allocated. */
    private long publish(byte[] array, int arrayOffset, MemorySegment segment, long length) {
        if (!writable) {
            throw new IllegalStateException(this + " was opened read-only: it can be read, not written");
        }
        if (length > capacity) {
            throw new IllegalArgumentException("a value of " + length + " bytes does not fit in " + this
                    + " (capacity " + capacity + " bytes)");
        }
        if (segment != null && length > 0) {
            // A source that cannot be read (its arena closed, or confined to another thread) must
            // fail here, as the copy would, and not once the sequence is odd: that would leave a
            // write in progress that nobody finishes, and every reader waiting for it.
            byte unused = segment.get(ValueLayout.JAVA_BYTE, 0);
        }
        MemorySegment m = mem;
        try (SharedMutex.Guard held = writerMutex.lock()) {
            // Only writers change the sequence, and we hold the writers' lock: a plain read is current.
            long s = (long) LONG.getOpaque(m, SEQUENCE_OFFSET);
            // Odd already: a writer died mid-write. Go to the next odd number, so that readers who
            // saw the dead writer's number notice the change.
            long odd = (s & 1) == 0 ? s + 1 : s + 2;
            LONG.setOpaque(m, SEQUENCE_OFFSET, odd);
            // SYNC POINT: store-store. The odd sequence is visible before any byte of the new value:
            // a reader that copied any new byte re-reads a sequence other than the one it started with.
            VarHandle.storeStoreFence();
            if (array != null) {
                MemorySegment.copy(array, arrayOffset, m, ValueLayout.JAVA_BYTE, PAYLOAD_OFFSET, (int) length);
            } else {
                MemorySegment.copy(segment, 0, m, PAYLOAD_OFFSET, length);
            }
            INT.setOpaque(m, LENGTH_OFFSET, (int) length);
            long even = odd + 1;
            // SYNC POINT: volatile store (a release, and store-load ordered before the read of the
            // follower count below): a reader that sees this even number sees the whole value and
            // length; a follower that registered before re-reading the sequence is seen here (Dekker).
            LONG.setVolatile(m, SEQUENCE_OFFSET, even);
            if (held.ownerDied()) {
                held.markConsistent();
            }
            if ((int) INT.getVolatile(m, FOLLOWERS_OFFSET) != 0) {
                waitWord.wake(Integer.MAX_VALUE);
            }
            return even >>> 1;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Reading

    /**
     * A consistent copy of a value and its version.
     *
     * @param version the version (0: nothing was written yet)
     * @param value the bytes (a copy owned by the caller)
     */
    public record Snapshot(long version, byte[] value) {
    }

    /**
     * Copies the latest value.
     *
     * @return a new array holding it (empty before the first write)
     * @throws ShmException when a write stays in progress for {@link #STUCK_WRITE_TIMEOUT}, or its
     *         writer died in the middle of it (the message says which; the next write repairs it)
     */
    public byte[] read() throws ShmException {
        return snapshot().value();
    }

    /**
     * Copies the latest value and its version.
     *
     * @return the snapshot
     * @throws ShmException as {@link #read()}
     */
    public Snapshot snapshot() throws ShmException {
        byte[] buffer = new byte[capacity];
        long[] version = new long[1];
        int length = readInto(buffer, version);
        return new Snapshot(version[0], java.util.Arrays.copyOf(buffer, length));
    }

    /**
     * Copies the latest value into {@code dst}, allocating nothing.
     *
     * @param dst a buffer of at least {@link #capacity()} bytes
     * @return the value's length; its bytes are {@code dst[0..length)}
     * @throws IllegalArgumentException when {@code dst} is shorter than the capacity
     * @throws ShmException as {@link #read()}
     */
    public int read(byte[] dst) throws ShmException {
        if (dst.length < capacity) {
            throw new IllegalArgumentException("a buffer of " + dst.length + " bytes is smaller than the capacity "
                    + capacity + " of " + this);
        }
        return readInto(dst, null);
    }

    private int readInto(byte[] dst, long[] versionOut) throws ShmException {
        final MemorySegment m = mem;
        final int cap = capacity;
        long stuckOn = -1;
        long stuckSince = 0;
        long lastDeathCheck = 0;
        for (int attempt = 0; ; attempt++) {
            // SYNC POINT: acquire; pairs with the writer's volatile even store: the value and length
            // written before it are visible below.
            long s1 = (long) LONG.getAcquire(m, SEQUENCE_OFFSET);
            if ((s1 & 1) == 0) {
                int length = (int) INT.getOpaque(m, LENGTH_OFFSET);
                boolean sane = length >= 0 && length <= cap;
                if (sane) {
                    // May race with a writer: the bytes are only used if the sequence did not move.
                    MemorySegment.copy(m, ValueLayout.JAVA_BYTE, PAYLOAD_OFFSET, dst, 0, length);
                }
                // SYNC POINT: load-load. The copy's loads complete before the sequence is read again,
                // so any byte of a newer write implies a newer sequence (see the store-store fence in write()).
                VarHandle.loadLoadFence();
                long s2 = (long) LONG.getOpaque(m, SEQUENCE_OFFSET);
                if (s1 == s2) {
                    if (!sane) {
                        throw new SegmentFormatException(segmentName, segmentOffset, "seqlock: the length of version "
                                + (s1 >>> 1) + " holds " + Integer.toUnsignedString(length)
                                + ", more than the capacity of " + cap + " bytes (corrupted)");
                    }
                    if (versionOut != null) {
                        versionOut[0] = s1 >>> 1;
                    }
                    return length;
                }
                continue;
            }
            // A write is in progress: most finish within microseconds.
            long now = System.nanoTime();
            if (s1 != stuckOn) {
                stuckOn = s1;
                stuckSince = now;
            } else if (now - stuckSince >= DEATH_CHECK_AFTER_NANOS && now - lastDeathCheck >= DEATH_CHECK_AFTER_NANOS) {
                lastDeathCheck = now;
                checkWriterAlive(s1, now - stuckSince);
            }
            backOff(attempt);
        }
    }

    private static void backOff(int attempt) {
        if (attempt < 64) {
            Thread.onSpinWait();
        } else if (attempt < 128) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(50_000);
        }
    }

    /** The same odd sequence for a while: has its writer died, or has it been stuck too long? */
    private void checkWriterAlive(long sequence, long stuckNanos) throws ShmException {
        long word = (long) LONG.getOpaque(mem, WRITER_MUTEX_OFFSET + MutexDescriptor.LOCK_WORD_OFFSET);
        int pid = MutexDescriptor.ownerPid(word);
        if (word != 0 && MutexDescriptor.problemWithWord(word) == null
                && !OsBackend.current().mayBeAlive(pid, MutexDescriptor.ownerStartLow32(word))) {
            throw new ShmException(segmentName, this + ": the writer (pid " + pid + ") died while writing version "
                    + ((sequence >>> 1) + 1) + ", leaving no consistent value to read; the next write repairs it", 0);
        }
        if (stuckNanos > STUCK_WRITE_TIMEOUT.toNanos()) {
            throw new ShmException(segmentName, this + ": a write has been in progress for "
                    + TimeUnit.NANOSECONDS.toMillis(stuckNanos) + " ms" + (word != 0 ? " (writer pid " + pid + ")" : "")
                    + "; no consistent value to read (is the writer stopped?)", 0);
        }
    }

    /**
     * The version of the latest completed write: 0 before the first. While a write is in
     * progress, the version it replaces.
     *
     * @return the version
     */
    public long version() {
        long s = (long) LONG.getAcquire(mem, SEQUENCE_OFFSET);
        return (s & 1) == 0 ? s >>> 1 : (s - 1) >>> 1;
    }

    /**
     * Waits until a version other than {@code version} is published (then {@link #read()} gets
     * it), at most {@code timeout}. Sleeps in the kernel and is woken by the writer; a seqlock
     * opened read-only cannot register to be woken and checks with a short backoff instead.
     *
     * @param version the version already seen
     * @param timeout how long to wait; zero or negative: only check
     * @return true when a newer version is there, false when the time ran out
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitChange(long version, Duration timeout) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (stableVersionOtherThan(version, (long) LONG.getAcquire(mem, SEQUENCE_OFFSET))) {
            return true;
        }
        long nanos = Math.max(0, SharedMutex.toNanos(timeout));
        return nanos != 0 && awaitChangeSlow(version, nanos);
    }

    private static boolean stableVersionOtherThan(long version, long s) {
        return (s & 1) == 0 && s >>> 1 != version;
    }

    private boolean awaitChangeSlow(long version, long timeoutNanos) throws InterruptedException {
        final MemorySegment m = mem;
        final Waiter waiter = new Waiter(timeoutNanos, true);
        final boolean registered = waitWord != null && !waiter.isVirtual();
        if (registered) {
            int unused = (int) INT.getAndAdd(m, FOLLOWERS_OFFSET, 1);
        }
        try {
            while (true) {
                // SYNC POINT: volatile read after the volatile registration (see write()).
                long s = (long) LONG.getVolatile(m, SEQUENCE_OFFSET);
                if (stableVersionOtherThan(version, s)) {
                    return true;
                }
                if (waiter.expired()) {
                    return false;
                }
                waiter.park(registered ? waitWord : null, (int) s);
            }
        } finally {
            if (registered) {
                int unused = (int) INT.getAndAdd(m, FOLLOWERS_OFFSET, -1);
            }
        }
    }

    /** @return the largest value, in bytes */
    public int capacity() {
        return capacity;
    }

    /** @return whether this seqlock can be written (false when opened read-only) */
    public boolean isWritable() {
        return writable;
    }

    /** @return the segment the seqlock lives in */
    public String segmentName() {
        return segmentName;
    }

    /** @return where the seqlock starts in its segment; the value starts {@link #HEADER_SIZE} bytes later */
    public long offset() {
        return segmentOffset;
    }

    /** @return for a named seqlock, whether this call created it; false for attached ones */
    public boolean wasCreated() {
        return named != null && named.created;
    }

    /** For a named seqlock, releases this process's handle to its segment; for an attached one, does nothing. */
    @Override
    public void close() {
        if (named != null) {
            named.close();
        }
    }

    @Override
    public String toString() {
        return "SeqLock[" + segmentName + (segmentOffset != 0 || named == null ? "@" + segmentOffset : "")
                + ", capacity " + capacity + "]";
    }
}
