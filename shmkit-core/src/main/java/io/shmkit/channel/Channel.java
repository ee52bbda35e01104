package io.shmkit.channel;

import io.shmkit.Access;
import io.shmkit.Segment;
import io.shmkit.SegmentFormatException;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import io.shmkit.internal.layout.ChannelDescriptor;
import io.shmkit.internal.layout.RecordDescriptor;
import io.shmkit.internal.layout.SlotDescriptor;
import io.shmkit.internal.os.OsBackend;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static io.shmkit.internal.layout.ChannelDescriptor.CAPACITY_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.CLEAN_POSITION_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.CONSUMERS_WAITING_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.CONSUMER_SLOTS_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.CREATED_MILLIS_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.DATA_OFFSET_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.KIND_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.MAGIC_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.MAX_MESSAGE_LENGTH_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.PRODUCERS_WAITING_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.PRODUCER_SLOTS_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.SLOTS_OFFSET_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.TAIL_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.VERSION_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.ACTIVE;
import static io.shmkit.internal.layout.SlotDescriptor.CLAIMING;
import static io.shmkit.internal.layout.SlotDescriptor.CLOSED;
import static io.shmkit.internal.layout.SlotDescriptor.DEAD;
import static io.shmkit.internal.layout.SlotDescriptor.FREE;
import static io.shmkit.internal.layout.SlotDescriptor.HEARTBEAT_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.MESSAGES_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.NAME_LENGTH;
import static io.shmkit.internal.layout.SlotDescriptor.NAME_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.OWNER_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.POSITION_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.START_TIME_OFFSET;

/**
 * A message channel in a named segment: variable-length messages with a type id, passed between
 * processes with no copy, no system call and no allocation on the way, and no daemon.
 *
 * <pre>{@code
 * // process 1
 * try (Channel ch = Channel.openOrCreate("prices", ChannelKind.ONE_TO_ONE, ChannelOptions.defaults());
 *      ChannelProducer out = ch.producer()) {
 *     out.offer(1, "hello".getBytes());
 * }
 * // process 2
 * try (Channel ch = Channel.openOrCreate("prices", ChannelKind.ONE_TO_ONE, ChannelOptions.defaults());
 *      ChannelConsumer in = ch.consumer()) {
 *     ReceivedMessage m = in.receive(Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * <p>Every participant is recorded in the segment (pid, process start time, heartbeat), which is
 * how a dead producer's unfinished record is skipped, a dead subscriber stops holding the producer
 * back, and a restarted consumer resumes where its predecessor stopped. The layout is documented in
 * {@code docs/channels.md}; C and Python programs can read the same channel.
 */
public final class Channel implements AutoCloseable {

    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    /** Plain accesses through a segment, for stores that a release fence before them orders. */
    static final ValueLayout.OfLong PLAIN_LONG = ValueLayout.JAVA_LONG;

    private static final long HEARTBEAT_INTERVAL_MILLIS = 100;

    final OsBackend os;
    final Segment segment;
    final View view;
    final String name;
    final ChannelKind kind;
    /** The whole segment: header and slots. */
    final MemorySegment header;
    /** The ring, from its first byte. */
    final MemorySegment data;
    final long capacity;
    final long mask;
    final int maxMessageLength;
    final int producerSlots;
    final int consumerSlots;
    final long stuckRecordTimeoutNanos;
    final int pid;
    final long startTime;

    private Channel(Segment segment, View view, ChannelKind kind, long stuckRecordTimeoutNanos) {
        this.os = OsBackend.current();
        this.segment = segment;
        this.view = view;
        this.name = segment.name();
        this.kind = kind;
        this.header = view.memory();
        this.capacity = header.get(ValueLayout.JAVA_LONG, CAPACITY_OFFSET);
        this.mask = capacity - 1;
        this.maxMessageLength = header.get(ValueLayout.JAVA_INT, MAX_MESSAGE_LENGTH_OFFSET);
        this.producerSlots = header.get(ValueLayout.JAVA_INT, PRODUCER_SLOTS_OFFSET);
        this.consumerSlots = header.get(ValueLayout.JAVA_INT, CONSUMER_SLOTS_OFFSET);
        this.data = header.asSlice(header.get(ValueLayout.JAVA_LONG, DATA_OFFSET_OFFSET), capacity);
        this.stuckRecordTimeoutNanos = stuckRecordTimeoutNanos;
        this.pid = os.currentPid();
        this.startTime = os.processStartTime(pid);
    }

    // ---------------------------------------------------------------------------------------------
    // Creating and opening

    /**
     * Creates a channel in a new named segment.
     *
     * @param name the segment name
     * @param kind who may send and receive
     * @param options capacity, limits, permissions and lifetime
     * @return the channel
     * @throws FileAlreadyExistsException when a segment of that name exists
     * @throws IllegalArgumentException when the options' max message length is more than an eighth
     *         of the capacity less 8
     * @throws IOException for other failures
     */
    public static Channel create(String name, ChannelKind kind, ChannelOptions options) throws IOException {
        int producers = kind == ChannelKind.MANY_TO_ONE ? options.maxProducers() : 1;
        int consumers = kind == ChannelKind.PUBLISH_SUBSCRIBE ? options.maxSubscribers() : 1;
        int maxLength = options.maxMessageLength();
        if (maxLength > ChannelDescriptor.maxMessageLengthFor(options.capacity())) {
            throw new IllegalArgumentException("max message length " + maxLength + " is too big for a ring of "
                    + options.capacity() + " bytes: at most " + ChannelDescriptor.maxMessageLengthFor(options.capacity()));
        }
        long pageSize = OsBackend.current().pageSize();
        long dataOffset = ChannelDescriptor.dataOffset(producers, consumers, pageSize);
        Segment segment = SharedMemory.create(name, dataOffset + options.capacity(),
                options.segmentOptions().access(Access.READ_WRITE));
        try {
            View view = segment.map();
            MemorySegment h = view.memory();
            h.set(ValueLayout.JAVA_INT, VERSION_OFFSET, ChannelDescriptor.VERSION);
            h.set(ValueLayout.JAVA_INT, KIND_OFFSET, kind.code());
            h.set(ValueLayout.JAVA_LONG, CAPACITY_OFFSET, options.capacity());
            h.set(ValueLayout.JAVA_INT, MAX_MESSAGE_LENGTH_OFFSET, maxLength);
            h.set(ValueLayout.JAVA_INT, PRODUCER_SLOTS_OFFSET, producers);
            h.set(ValueLayout.JAVA_INT, CONSUMER_SLOTS_OFFSET, consumers);
            h.set(ValueLayout.JAVA_LONG, DATA_OFFSET_OFFSET, dataOffset);
            h.set(ValueLayout.JAVA_LONG, SLOTS_OFFSET_OFFSET, ChannelDescriptor.slotsOffset());
            h.set(ValueLayout.JAVA_LONG, CREATED_MILLIS_OFFSET, System.currentTimeMillis());
            h.set(ValueLayout.JAVA_LONG, TAIL_OFFSET, 0L);
            // The new segment is all zero, so the whole ring counts as cleaned.
            h.set(ValueLayout.JAVA_LONG, CLEAN_POSITION_OFFSET, options.capacity());
            // SYNC POINT: the magic is written last, with release semantics; an opener that reads it
            // with acquire semantics sees every field above.
            LONG.setRelease(h, MAGIC_OFFSET, ChannelDescriptor.MAGIC);
            return new Channel(segment, view, kind, options.stuckRecordTimeout().toNanos());
        } catch (RuntimeException e) {
            segment.close();
            throw e;
        }
    }

    /**
     * Opens an existing channel, whatever its kind.
     *
     * @param name the segment name
     * @return the channel
     * @throws NoSuchFileException when there is no segment of that name
     * @throws SegmentFormatException when the segment is not a channel this version reads, or is corrupted
     * @throws IOException for other failures
     */
    public static Channel open(String name) throws IOException {
        return open(name, ChannelOptions.defaults());
    }

    /**
     * Opens an existing channel; only the options' stuck-record timeout,
     * {@link io.shmkit.SegmentOptions#allowForeignOwner()} and access apply (the rest was fixed by the
     * creator). With {@link Access#READ_ONLY} the channel is opened only to look at it: {@link #stats()}
     * works, for a user who may only read the segment too, and joining it (producer, consumer,
     * subscriber) throws {@link IllegalStateException}. Any other access opens it read-write.
     *
     * @param name the segment name
     * @param options the options to open with
     * @return the channel
     * @throws IOException as {@link #open(String)}
     */
    public static Channel open(String name, ChannelOptions options) throws IOException {
        Access access = options.segmentOptions().access() == Access.READ_ONLY ? Access.READ_ONLY : Access.READ_WRITE;
        Segment segment = SharedMemory.open(name, options.segmentOptions().access(access));
        try {
            if (segment.size() == 0) {
                // A view needs a byte at least: say what is wrong before map refuses.
                ChannelDescriptor.checkHeader(name, MemorySegment.NULL, OsBackend.current().pageSize());
            }
            View view = segment.map();
            MemorySegment h = view.memory();
            awaitInitialised(name, h);
            ChannelDescriptor.checkHeader(name, h, OsBackend.current().pageSize());
            Channel channel = new Channel(segment, view, ChannelKind.of(h.get(ValueLayout.JAVA_INT, KIND_OFFSET)),
                    options.stuckRecordTimeout().toNanos());
            channel.checkPositions();
            return channel;
        } catch (IOException | RuntimeException e) {
            segment.close();
            throw e;
        }
    }

    /**
     * Opens a channel, waiting up to {@code timeout} for another process to create it: for the
     * side that may start first.
     *
     * @param name the segment name
     * @param timeout how long to wait for the segment to appear
     * @return the channel
     * @throws NoSuchFileException when it did not appear in time
     * @throws IOException as {@link #open(String)}
     */
    public static Channel open(String name, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 100_000;
        while (true) {
            try {
                return open(name);
            } catch (NoSuchFileException e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new NoSuchFileException(e.getFile(), null, "no channel named \"" + name
                            + "\" appeared within " + timeout.toMillis() + " ms");
                }
                LockSupport.parkNanos(pause);
                pause = Math.min(pause * 2, 20_000_000);
            }
        }
    }

    /**
     * Opens the channel, or creates it when there is none, so that either side may start first.
     *
     * @param name the segment name
     * @param kind the kind it must have
     * @param options used when creating
     * @return the channel
     * @throws SegmentFormatException when it exists with another kind, or is not a channel
     * @throws IOException for other failures
     */
    public static Channel openOrCreate(String name, ChannelKind kind, ChannelOptions options) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                return create(name, kind, options);
            } catch (FileAlreadyExistsException exists) {
                try {
                    // Read-write, as created: this is for a side that joins.
                    Channel ch = open(name, options.segmentOptions(options.segmentOptions().access(Access.READ_WRITE)));
                    if (ch.kind != kind) {
                        ch.close();
                        throw new SegmentFormatException(name, "channel \"" + name + "\" is " + ch.kind.label()
                                + ", not " + kind.label());
                    }
                    return ch;
                } catch (NoSuchFileException goneMeanwhile) {
                    if (attempt > 100) {
                        throw goneMeanwhile;
                    }
                }
            }
        }
    }

    /** A creator makes the segment visible before it writes the header: wait (bounded) for the magic. */
    private static void awaitInitialised(String name, MemorySegment h) {
        if (h.byteSize() < ChannelDescriptor.HEADER_LENGTH) {
            return; // checkHeader reports it
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        // SYNC POINT: pairs with the creator's release store of the magic.
        while ((long) LONG.getAcquire(h, MAGIC_OFFSET) == 0 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * Validates the positions found in an existing channel, so that corruption is reported on open.
     * Producers and consumers may be at work meanwhile, and the relations checked hold only against
     * one value of the tail: the checks are repeated until the tail stood still while they ran. A
     * channel whose tail never does is in busy use, and its records are checked as they are read.
     *
     * <p>A single producer publishes a record's header before it advances the tail, so a consumer
     * may be one record ahead of the tail: exactly the record published there.
     */
    private void checkPositions() throws SegmentFormatException {
        for (int attempt = 0; attempt < 100; attempt++) {
            long tail = (long) LONG.getVolatile(header, TAIL_OFFSET);
            SegmentFormatException problem = positionProblem(tail);
            if ((long) LONG.getVolatile(header, TAIL_OFFSET) == tail) {
                if (problem != null) {
                    throw problem;
                }
                return;
            }
        }
    }

    private SegmentFormatException positionProblem(long tail) {
        if (tail < 0 || tail > ChannelDescriptor.MAX_POSITION || (tail & 7) != 0) {
            return ChannelDescriptor.corrupted(name, TAIL_OFFSET, "tail position", tail);
        }
        long clean = (long) LONG.getVolatile(header, CLEAN_POSITION_OFFSET);
        if (kind != ChannelKind.MANY_TO_ONE && (clean < tail || clean > tail + capacity || (clean & 7) != 0)) {
            return ChannelDescriptor.corrupted(name, CLEAN_POSITION_OFFSET, "clean position (tail " + tail + ")",
                    clean);
        }
        // A consumer ahead of the tail has read the record published at the tail (its producer
        // has not advanced the tail yet, or died first): it must stand right after that record,
        // or it would read from the middle of the records written next. Not in many-to-one, where
        // the tail moves before the record is written.
        long ahead = 0;
        long atTail = (long) LONG.getAcquire(data, tail & mask);
        int length = RecordDescriptor.length(atTail);
        if (kind != ChannelKind.MANY_TO_ONE && length >= RecordDescriptor.HEADER_LENGTH
                && length <= capacity - (tail & mask)) {
            ahead = RecordDescriptor.aligned(length);
        }
        for (int i = 0; i < consumerSlots; i++) {
            long slot = consumerSlot(i);
            int state = SlotDescriptor.state((long) LONG.getVolatile(header, slot + OWNER_OFFSET));
            if (state < FREE || state > DEAD) {
                return ChannelDescriptor.corrupted(name, slot + OWNER_OFFSET, "state of consumer slot " + i, state);
            }
            long position = (long) LONG.getVolatile(header, slot + POSITION_OFFSET);
            // A subscriber slot being taken (CLAIMING) still holds its previous owner's position,
            // which gated nothing while that owner was closed or dead.
            boolean gates = kind != ChannelKind.PUBLISH_SUBSCRIBE || state == ACTIVE;
            if (position < 0 || (position & 7) != 0 || position > tail && position != tail + ahead
                    || gates && tail - position > capacity) {
                return ChannelDescriptor.corrupted(name, slot + POSITION_OFFSET,
                        "position of consumer slot " + i + " (tail " + tail + ")", position);
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------
    // Participants

    /**
     * Joins as the producer (one-to-one and publish-subscribe: the only one; many-to-one: one of
     * many, each thread using its own). A producer left by a process that died is taken over.
     *
     * @return the producer; close it to leave
     * @throws IllegalStateException when the channel's only producer slot is held by a live process,
     *         or every many-to-one slot is in use
     */
    public ChannelProducer producer() {
        requireWritable("producer");
        try {
            SlotClaim claim = acquireSlot(0, producerSlots, null, "producer");
            if (claim.fromDead() && kind != ChannelKind.MANY_TO_ONE) {
                forgetWaiter(PRODUCERS_WAITING_OFFSET);
            }
            return new ChannelProducer(this, claim.index());
        } catch (InternalError e) {
            throw pagesGone(e);
        }
    }

    /** A channel opened read-only can be looked at, not joined: its slots cannot be written. */
    private void requireWritable(String role) {
        if (header.isReadOnly()) {
            throw new IllegalStateException("channel \"" + name + "\" was opened read-only (Access.READ_ONLY): it "
                    + "can be looked at (stats), not joined as a " + role);
        }
    }

    /**
     * The only producer or consumer of its side died: if it was asleep waiting for space or data, it
     * left its count in "waiting" for good, and every commit or poll of the other side would then
     * wake nobody with a system call (measured, one thread, 32-byte messages: 2.0-2.7 against 27-37 M
     * msg/s). Nobody else on this side can be waiting: start again from 0.
     */
    private void forgetWaiter(long waitingOffset) {
        INT.setVolatile(header, waitingOffset, 0);
    }

    /**
     * Joins as the consumer of a one-to-one or many-to-one channel, resuming from the position the
     * previous consumer last committed (so a restarted consumer loses and repeats nothing).
     *
     * @return the consumer; close it to leave
     * @throws IllegalStateException when a live process is already the consumer, or the channel is
     *         publish-subscribe (use {@link #subscriber()})
     */
    public ChannelConsumer consumer() {
        if (kind == ChannelKind.PUBLISH_SUBSCRIBE) {
            throw new IllegalStateException("channel \"" + name + "\" is publish-subscribe: use subscriber()");
        }
        requireWritable("consumer");
        try {
            SlotClaim claim = acquireSlot(producerSlots, 1, null, "consumer");
            if (claim.fromDead()) {
                forgetWaiter(CONSUMERS_WAITING_OFFSET);
            }
            return new ChannelConsumer(this, claim.index(), false, false);
        } catch (InternalError e) {
            throw pagesGone(e);
        }
    }

    /**
     * Joins a publish-subscribe channel as an anonymous subscriber, from the next message published.
     *
     * @return the subscriber; close it to leave
     * @throws IllegalStateException when every subscriber slot is in use, or the channel is not publish-subscribe
     */
    public ChannelConsumer subscriber() {
        return subscriber(null);
    }

    /**
     * Joins a publish-subscribe channel as a named subscriber. When a subscriber of that name was
     * here before (and its process has gone), this one resumes where it stopped, if the producer has
     * not overwritten those messages since; otherwise it starts from the next message and
     * {@link ChannelConsumer#lostBytes()} says how much it missed.
     *
     * @param subscriberName 1 to 16 bytes of UTF-8, or null for an anonymous subscriber
     * @return the subscriber; close it to leave
     * @throws IllegalArgumentException when the name is empty or longer than 16 bytes
     * @throws IllegalStateException when a live process uses that name, or every slot is in use, or
     *         the channel is not publish-subscribe
     */
    public ChannelConsumer subscriber(String subscriberName) {
        if (kind != ChannelKind.PUBLISH_SUBSCRIBE) {
            throw new IllegalStateException("channel \"" + name + "\" is " + kind.label() + ": use consumer()");
        }
        byte[] nameBytes = null;
        if (subscriberName != null) {
            nameBytes = subscriberName.getBytes(StandardCharsets.UTF_8);
            if (nameBytes.length == 0 || nameBytes.length > NAME_LENGTH) {
                throw new IllegalArgumentException("subscriber name \"" + subscriberName + "\" must be 1 to "
                        + NAME_LENGTH + " bytes of UTF-8");
            }
        }
        requireWritable("subscriber");
        try {
            SlotClaim claim = acquireSlot(producerSlots, consumerSlots, nameBytes, "subscriber");
            return new ChannelConsumer(this, claim.index(), true, claim.resumed());
        } catch (InternalError e) {
            throw pagesGone(e);
        }
    }

    long producerSlot(int index) {
        return SlotDescriptor.slotOffset(index);
    }

    long consumerSlot(int index) {
        return SlotDescriptor.slotOffset(producerSlots + index);
    }

    /**
     * Takes a slot in {@code [first, first + count)}: the slot of {@code slotName} when it has one
     * (to resume), else a free one, else one left closed or by a process that died.
     */
    private SlotClaim acquireSlot(int first, int count, byte[] slotName, String role) {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int candidate = -1;
            boolean resumed = false;
            int rank = Integer.MAX_VALUE;
            int liveOwner = 0;
            for (int i = first; i < first + count; i++) {
                long off = SlotDescriptor.slotOffset(i);
                long owner = (long) LONG.getVolatile(header, off + OWNER_OFFSET);
                int state = SlotDescriptor.state(owner);
                boolean usable = state == FREE || state == CLOSED || state == DEAD || !ownerAlive(off, owner);
                if (slotName != null && state != FREE && nameMatches(off, slotName)) {
                    if (!usable) {
                        throw new IllegalStateException("subscriber \"" + new String(slotName, StandardCharsets.UTF_8)
                                + "\" of channel \"" + name + "\" is in use by live process " + SlotDescriptor.pid(owner));
                    }
                    candidate = i;
                    resumed = true;
                    break;
                }
                if (!usable) {
                    liveOwner = SlotDescriptor.pid(owner);
                    continue;
                }
                // Prefer slots nobody may come back for: free, then unnamed, then named ones.
                int r = state == FREE ? 0 : isUnnamed(off) ? 1 : 2;
                if (r < rank) {
                    rank = r;
                    candidate = i;
                }
            }
            if (candidate < 0) {
                throw new IllegalStateException(count == 1
                        ? "the " + role + " of channel \"" + name + "\" is live process " + liveOwner
                        : "all " + count + " " + role + " slots of channel \"" + name + "\" are in use");
            }
            long off = SlotDescriptor.slotOffset(candidate);
            long owner = (long) LONG.getVolatile(header, off + OWNER_OFFSET);
            int state = SlotDescriptor.state(owner);
            if ((state == ACTIVE || state == CLAIMING) && ownerAlive(off, owner)) {
                continue; // taken meanwhile
            }
            if (LONG.compareAndSet(header, off + OWNER_OFFSET, owner, SlotDescriptor.owner(CLAIMING, pid))) {
                LONG.setRelease(header, off + START_TIME_OFFSET, startTime);
                LONG.setRelease(header, off + HEARTBEAT_OFFSET, System.currentTimeMillis());
                if (candidate >= producerSlots && !resumed) {
                    MemorySegment nameField = header.asSlice(off + NAME_OFFSET, NAME_LENGTH);
                    nameField.fill((byte) 0);
                    if (slotName != null) {
                        MemorySegment.copy(slotName, 0, nameField, ValueLayout.JAVA_BYTE, 0, slotName.length);
                    }
                }
                return new SlotClaim(candidate, resumed, state == ACTIVE || state == CLAIMING);
            }
        }
        throw new IllegalStateException("could not take a " + role + " slot of channel \"" + name
                + "\": it kept changing hands");
    }

    /**
     * A slot just taken; {@code resumed} when it is a named subscriber's own slot from before,
     * {@code fromDead} when its previous owner died holding it.
     */
    private record SlotClaim(int index, boolean resumed, boolean fromDead) {
    }

    private boolean nameMatches(long slotOffset, byte[] slotName) {
        for (int i = 0; i < NAME_LENGTH; i++) {
            byte b = header.get(ValueLayout.JAVA_BYTE, slotOffset + NAME_OFFSET + i);
            byte expected = i < slotName.length ? slotName[i] : 0;
            if (b != expected) {
                return false;
            }
        }
        return true;
    }

    private boolean isUnnamed(long slotOffset) {
        return header.get(ValueLayout.JAVA_BYTE, slotOffset + NAME_OFFSET) == 0;
    }

    /** Marks a slot active once its owner has set it up. */
    void activate(long slotOffset) {
        // SYNC POINT: the release publishes the slot's position and start time together with its state.
        LONG.setRelease(header, slotOffset + OWNER_OFFSET, SlotDescriptor.owner(ACTIVE, pid));
    }

    /** Leaves a slot cleanly; its position stays for a successor. */
    void release(long slotOffset) {
        long mine = SlotDescriptor.owner(ACTIVE, pid);
        try {
            // Read before the CAS: where the JVM runs a CAS outside compiled code (as here, on a
            // slow path), a fault on pages that are gone kills the whole JVM instead of raising
            // InternalError; a read raises it.
            if ((long) LONG.getVolatile(header, slotOffset + OWNER_OFFSET) == mine) {
                LONG.compareAndSet(header, slotOffset + OWNER_OFFSET, mine, SlotDescriptor.owner(CLOSED, pid));
            }
        } catch (InternalError e) {
            // The pages, and with them the slot, are gone: there is nothing left to leave.
        }
    }

    /** Whether the process recorded as a slot's owner still runs (pid and start time both match). */
    boolean ownerAlive(long slotOffset, long owner) {
        int ownerPid = SlotDescriptor.pid(owner);
        if (ownerPid == pid) {
            // Another handle in this process, unless an earlier process with this pid left the slot
            // (a pid reused, or a container restarted in a new pid namespace): its start time differs.
            // While being taken the start time may still be the previous owner's: only the pid counts.
            return SlotDescriptor.state(owner) == CLAIMING
                    || (long) LONG.getAcquire(header, slotOffset + START_TIME_OFFSET) == startTime;
        }
        if (SlotDescriptor.state(owner) == CLAIMING) {
            // Being taken: the start time may still be the previous owner's, so only the pid counts.
            return os.isAlive(ownerPid, OsBackend.ANY_START_TIME);
        }
        return os.isAlive(ownerPid, (long) LONG.getAcquire(header, slotOffset + START_TIME_OFFSET));
    }

    /**
     * Leaves a waiters count after a sleep, in which the pages may have gone: read first, as in
     * {@link #release}, so that this raises InternalError rather than killing the JVM.
     */
    static void leaveWaiting(MemorySegment header, long offset) {
        INT.getVolatile(header, offset);
        INT.getAndAdd(header, offset, -1);
    }

    /** Refreshes a slot's heartbeat; called from the participants' slow paths. */
    void heartbeat(long slotOffset) {
        LONG.setOpaque(header, slotOffset + HEARTBEAT_OFFSET, System.currentTimeMillis());
    }

    static long heartbeatInterval() {
        return HEARTBEAT_INTERVAL_MILLIS;
    }

    /**
     * The JVM reports an access to mapped pages that are gone (the segment's file was truncated
     * under this process, or /dev/shm is full) as an {@link InternalError}: the blocking, copying
     * and joining methods turn it into this, which names the channel, as {@link View} does for its
     * own accessors. In compiled code the JVM raises it at the next safepoint poll, which may be in
     * the caller after a participant's method returned, so the hot methods (poll, tryClaim,
     * commit) do not try: a translation there would cost every message and still miss.
     */
    IllegalStateException pagesGone(InternalError e) {
        return new IllegalStateException("channel \"" + name + "\": the mapped pages are gone (its segment was "
                + "truncated under this process, or /dev/shm is full)", e);
    }

    // ---------------------------------------------------------------------------------------------
    // Inspection

    /** @return the channel's segment name */
    public String name() {
        return name;
    }

    /** @return the channel's kind */
    public ChannelKind kind() {
        return kind;
    }

    /** @return the ring's capacity in bytes */
    public long capacity() {
        return capacity;
    }

    /** @return the largest payload a message may have */
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /**
     * A snapshot of the channel: positions, and every participant slot in use or used before.
     *
     * @return the statistics
     */
    public ChannelStats stats() {
        try {
            return snapshot();
        } catch (InternalError e) {
            throw pagesGone(e);
        }
    }

    private ChannelStats snapshot() {
        long tail = (long) LONG.getVolatile(header, TAIL_OFFSET);
        List<ChannelStats.Participant> participants = new ArrayList<>();
        for (int i = 0; i < producerSlots + consumerSlots; i++) {
            long off = SlotDescriptor.slotOffset(i);
            long owner = (long) LONG.getVolatile(header, off + OWNER_OFFSET);
            int state = SlotDescriptor.state(owner);
            if (state == FREE) {
                continue;
            }
            boolean producer = i < producerSlots;
            long position = (long) LONG.getVolatile(header, off + POSITION_OFFSET);
            byte[] nameBytes = header.asSlice(off + NAME_OFFSET, NAME_LENGTH).toArray(ValueLayout.JAVA_BYTE);
            int len = 0;
            while (len < nameBytes.length && nameBytes[len] != 0) {
                len++;
            }
            boolean alive = (state == ACTIVE || state == CLAIMING) && ownerAlive(off, owner);
            participants.add(new ChannelStats.Participant(
                    producer ? "producer" : kind == ChannelKind.PUBLISH_SUBSCRIBE ? "subscriber" : "consumer",
                    producer ? i : i - producerSlots, SlotDescriptor.stateName(state), SlotDescriptor.pid(owner),
                    alive, (long) LONG.getVolatile(header, off + HEARTBEAT_OFFSET),
                    producer ? -1 : position, producer ? -1 : Math.max(0, tail - position),
                    (long) LONG.getVolatile(header, off + MESSAGES_OFFSET),
                    new String(nameBytes, 0, len, StandardCharsets.UTF_8)));
        }
        return new ChannelStats(name, kind, capacity, maxMessageLength, tail,
                header.get(ValueLayout.JAVA_LONG, CREATED_MILLIS_OFFSET), participants);
    }

    /** Closes the channel's segment: every producer and consumer of this handle stops working. */
    @Override
    public void close() {
        segment.close();
    }

    @Override
    public String toString() {
        return "Channel[" + name + ", " + kind.label() + ", " + capacity + " bytes]";
    }
}
