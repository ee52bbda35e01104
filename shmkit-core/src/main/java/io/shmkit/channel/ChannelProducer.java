package io.shmkit.channel;

import io.shmkit.internal.layout.RecordDescriptor;
import io.shmkit.internal.layout.SlotDescriptor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;

import static io.shmkit.channel.Channel.INT;
import static io.shmkit.channel.Channel.LONG;
import static io.shmkit.channel.Channel.PLAIN_LONG;
import static io.shmkit.internal.layout.ChannelDescriptor.CLEAN_POSITION_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.CONSUMERS_WAITING_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.DATA_SIGNAL_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.PRODUCERS_WAITING_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.SPACE_SIGNAL_OFFSET;
import static io.shmkit.internal.layout.ChannelDescriptor.TAIL_OFFSET;
import static io.shmkit.internal.layout.RecordDescriptor.HEADER_LENGTH;
import static io.shmkit.internal.layout.RecordDescriptor.PADDING_TYPE;
import static io.shmkit.internal.layout.SlotDescriptor.ACTIVE;
import static io.shmkit.internal.layout.SlotDescriptor.CLAIMING;
import static io.shmkit.internal.layout.SlotDescriptor.CLAIM_LENGTH_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.DEAD;
import static io.shmkit.internal.layout.SlotDescriptor.MESSAGES_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.OWNER_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.POSITION_OFFSET;

/**
 * Sends messages into a channel. Not thread-safe: in a many-to-one channel, each producing thread
 * takes a producer of its own from {@link Channel#producer()}.
 *
 * <p>{@link #tryClaim}, {@link #offer} and their commit allocate nothing and make no system call
 * (unless a consumer sleeps in the kernel and must be woken); when the ring is full they return
 * {@code null}/false at once, never overwriting unread messages. {@link #send} waits for space.
 *
 * <p>Single-producer kinds (one-to-one, publish-subscribe) publish a record with one release
 * store of its header, after clearing the header word that follows it (the next record's, which
 * consumers read next). Many-to-one producers claim
 * space with a CAS on the tail and mark the record in progress with their slot number, so that a
 * producer that dies mid-record can be recognised and skipped.
 */
public final class ChannelProducer implements AutoCloseable {

    /**
     * How far ahead of the tail the ring is zeroed at a time. Small enough that a chunk stays in the
     * first-level cache until the messages are written into it: with 64 KiB chunks (more than the
     * L1 of most cores) the zeroed lines were evicted before use, and the producer stalled on a whole
     * chunk of cache-line transfers at once while the consumer caught up and sat on the line being
     * written. Measured, 256-byte messages between processes, runs interleaved: 64 KiB 11-12 M
     * msg/s, 16 KiB 17.5 M, 8 KiB 18-19 M, 4 KiB 18.5-20 M; round trips no slower. 8 KiB rather
     * than 4: with 4 KiB about a quarter of the runs settled in a lock-step mode at 6 M (the
     * consumer on the line being written), with 8 KiB one run in nineteen.
     */
    private static final long CLEAN_CHUNK = 8 * 1024;
    /**
     * Records this long or longer are not zeroed ahead: the caller writes them whole, and zeroing
     * first would write every byte twice (half the bandwidth for large messages, and with 8 KiB
     * chunks a chunk to zero every other 4 KiB message: 4 KiB round trips took 690-730 ns against
     * 430-440 ns without). Shorter ones keep the chunked zeroing, which also takes ownership of the
     * cache lines ahead off the path of each message (measured: about 25 ns less per 32-byte round
     * trip than clearing only header words, and 18 M against 13 M msg/s one-way at 256 bytes).
     */
    private static final long ZERO_AHEAD_MAX_RECORD = 1024;
    /**
     * After each commit into a zeroed stretch, a single-producer channel stores 0 (over 0) this far
     * beyond the new tail: the cache line there becomes this core's before the message that needs it
     * is written, instead of on that message's critical path (the consumer, polling the next header,
     * pulls the lines around it). Measured, 32-byte round trips between processes: a C ring 180 ns
     * without, 130 with (the C cache-line mailbox 120); a minimal Java ring 160 and 130; shmkit
     * 201-230 and 190-191 in interleaved runs. 128-256 bytes ahead do as well; 512 less.
     */
    private static final long TOUCH_AHEAD = 256;
    private static final int HEARTBEAT_EVERY = 256;
    /** Many-to-one: the slot position of a producer whose last tail CAS failed; matches no position. */
    private static final long NO_CLAIM = -1;
    private static final long LIVENESS_CHECK_INTERVAL_NANOS = 10_000_000;

    private final Channel channel;
    private final MemorySegment header;
    private final MemorySegment data;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;
    private final boolean manyToOne;
    private final boolean publishSubscribe;
    private final int slotIndex;
    private final long slot;
    private final long consumerPositionAddress;
    /** Where the ring starts in the segment: single-producer commits store through the whole segment. */
    private final long dataBase;
    private final MemorySegment dataSignal;
    private final MemorySegment spaceSignal;
    private final Claim claim;
    /**
     * Single-producer kinds: whether commit needs its own store-load fence. Not where this process
     * joined the OS's process-wide barriers: a consumer about to sleep then issues one, which stands
     * in for the fence on this side (see commit).
     */
    private final boolean fenceOnCommit;

    /** Single-producer kinds: the tail as this producer last published it. */
    private long tail;
    /** Single-producer kinds: the clean position, up to which this producer may overwrite the ring. */
    private long cleanPosition;
    /** Single-producer kinds: the ring from the tail up to the clean position is known to be zero. */
    private boolean zeroAhead;
    /** Many-to-one: the position of the record claimed last. */
    private long claimPosition;
    /** Nothing may be written at or beyond this position until consumers move on. */
    private long limit;
    private long messages;
    private int heartbeatCountdown = HEARTBEAT_EVERY;
    private long lastLivenessCheck;
    private boolean closed;

    ChannelProducer(Channel channel, int slotIndex) {
        this.channel = channel;
        this.header = channel.header;
        this.data = channel.data;
        this.capacity = channel.capacity;
        this.mask = channel.mask;
        this.maxMessageLength = channel.maxMessageLength;
        this.manyToOne = channel.kind == ChannelKind.MANY_TO_ONE;
        this.publishSubscribe = channel.kind == ChannelKind.PUBLISH_SUBSCRIBE;
        this.slotIndex = slotIndex;
        this.slot = channel.producerSlot(slotIndex);
        this.consumerPositionAddress = channel.consumerSlot(0) + POSITION_OFFSET;
        this.dataBase = data.address() - header.address();
        this.dataSignal = header.asSlice(DATA_SIGNAL_OFFSET, 4);
        this.spaceSignal = header.asSlice(SPACE_SIGNAL_OFFSET, 4);
        this.claim = new Claim(this, data);
        this.fenceOnCommit = !manyToOne && !channel.os.joinProcessWideBarriers();
        this.messages = (long) LONG.getVolatile(header, slot + MESSAGES_OFFSET);
        if (manyToOne) {
            recoverAbandonedClaim();
        } else {
            takeOverTail();
        }
        this.limit = computeLimit();
        channel.activate(slot);
    }

    /**
     * A producer that died mid-record leaves, at most, payload bytes beyond the tail (the header is
     * published last), and the header word at the tail still 0: zero that stretch, once. One that
     * died between publishing a record (or padding) and advancing the tail left that record
     * committed beyond the tail, where a consumer may have read it already: it is adopted, not zeroed.
     */
    private void takeOverTail() {
        tail = (long) LONG.getVolatile(header, TAIL_OFFSET);
        long index = tail & mask;
        int length = RecordDescriptor.length((long) LONG.getVolatile(data, index));
        // Ahead of the tail the ring is zero, but for that one record: a header there is its.
        if (length >= HEADER_LENGTH && length <= capacity - index) {
            tail += RecordDescriptor.aligned(length);
            LONG.setRelease(header, TAIL_OFFSET, tail);
        }
        cleanPosition = (long) LONG.getVolatile(header, CLEAN_POSITION_OFFSET);
        // Never beyond what the consumers allow: a publish-subscribe predecessor that died between
        // publishing its intended clean position and lowering it for a subscriber it had just seen
        // (see reserve) left a clean position over that subscriber's unread bytes. Its own writes
        // stayed below its limit, so they are all below this one.
        long dirtyEnd = Math.min(Math.min(cleanPosition, computeLimit()),
                tail + RecordDescriptor.aligned(HEADER_LENGTH + maxMessageLength));
        zero(tail, dirtyEnd);
        // The clean position is still the creator's (the capacity) until a producer first needs room
        // beyond it, and it never moves back: so far nothing was written beyond one record past the
        // tail, which was just zeroed, and the new segment was all zero. The first lap can then take
        // the fast path, as every later one does.
        zeroAhead = cleanPosition == capacity;
    }

    /**
     * Many-to-one: the previous owner of this slot may have died between claiming space and
     * finishing its record; turn that record into padding so the consumer can move on.
     */
    private void recoverAbandonedClaim() {
        long position = (long) LONG.getVolatile(header, slot + POSITION_OFFSET);
        int length = (int) INT.getVolatile(header, slot + CLAIM_LENGTH_OFFSET);
        long consumer = (long) LONG.getAcquire(header, consumerPositionAddress);
        long tailNow = (long) LONG.getVolatile(header, TAIL_OFFSET);
        if (length >= HEADER_LENGTH && position >= consumer && position < tailNow && (position & 7) == 0) {
            long index = position & mask;
            long padding = RecordDescriptor.header(length, PADDING_TYPE);
            if (!LONG.compareAndSet(data, index, 0L, padding)) {
                long found = (long) LONG.getVolatile(data, index);
                if (RecordDescriptor.length(found) == -length && RecordDescriptor.type(found) == slotIndex) {
                    LONG.compareAndSet(data, index, found, padding);
                }
            }
        }
        INT.setRelease(header, slot + CLAIM_LENGTH_OFFSET, 0);
    }

    /** @return the channel this producer sends into */
    public Channel channel() {
        return channel;
    }

    /** @return the largest payload a message may have */
    public int maxMessageLength() {
        return maxMessageLength;
    }

    /**
     * Claims space for a message of {@code length} bytes, to be written in place: write the payload
     * into {@code claim.buffer()} at {@code claim.offset()} (or into {@code claim.segment()}), then
     * {@link Claim#commit()} or {@link Claim#abort()}.
     *
     * @param typeId the message's type id, 0 or more
     * @param length the payload length, from 0 to {@link #maxMessageLength()}
     * @return the claim (the same object each time), or null when the ring is full
     * @throws IllegalArgumentException for a negative type id or a length out of range
     * @throws IllegalStateException when the previous claim was neither committed nor aborted
     * @throws InternalError when the channel's segment was truncated under this process (see
     *         {@link ChannelConsumer#poll}: the hot methods leave the JVM's error as it is)
     */
    public Claim tryClaim(int typeId, int length) {
        if (typeId < 0 || length < 0 || length > maxMessageLength || claim.active) {
            throw badClaim(typeId, length);
        }
        int recordLength = HEADER_LENGTH + length;
        if (manyToOne) {
            return claimShared(typeId, recordLength);
        }
        // Fast path, kept small so that it inlines into the caller's loop: the record fits before
        // the ring's end, in the stretch already zeroed, under the limit. Anything else (padding at
        // the end, zeroing the next chunk, re-reading the consumers' positions) is claimSingle's.
        long t = tail;
        long index = t & mask;
        long aligned = RecordDescriptor.aligned(recordLength);
        long required = t + aligned + HEADER_LENGTH;
        if (!zeroAhead || aligned > capacity - index || required > cleanPosition || required > limit) {
            return claimSingle(typeId, recordLength);
        }
        Claim c = claim;
        c.recordIndex = index;
        c.recordLength = recordLength;
        c.typeId = typeId;
        c.active = true;
        return c;
    }

    private Claim claimSingle(int typeId, int recordLength) {
        long aligned = RecordDescriptor.aligned(recordLength);
        long t = tail;
        long index = t & mask;
        long toEnd = capacity - index;
        long end = aligned <= toEnd ? t + aligned : t + toEnd + aligned;
        // The header after this record must stay zero, so it needs room too.
        long required = end + HEADER_LENGTH;
        if (required > limit && !ensureLimit(required)) {
            return null;
        }
        if (required > cleanPosition && !reserve(required, aligned < ZERO_AHEAD_MAX_RECORD)) {
            return null;
        }
        // The header word after this record must read 0 until that record is committed. Where the
        // stretch ahead was not zeroed (large records), clear that word now: a plain store, which
        // this record's release store publishes.
        if (!zeroAhead) {
            clearHeaderWord(end & mask);
            if (aligned > toEnd) {
                clearHeaderWord(0);
            }
        }
        if (aligned > toEnd) {
            // SYNC POINT: padding is published like a record (release store of its header).
            LONG.setRelease(data, index, RecordDescriptor.header((int) toEnd, PADDING_TYPE));
            t += toEnd;
            tail = t;
            LONG.setRelease(header, TAIL_OFFSET, t);
            index = 0;
        }
        claim.recordIndex = index;
        claim.recordLength = recordLength;
        claim.typeId = typeId;
        claim.active = true;
        return claim;
    }

    private Claim claimShared(int typeId, int recordLength) {
        long aligned = RecordDescriptor.aligned(recordLength);
        while (true) {
            long t = (long) LONG.getVolatile(header, TAIL_OFFSET);
            long index = t & mask;
            long toEnd = capacity - index;
            long size = aligned <= toEnd ? aligned : toEnd;
            long required = aligned <= toEnd ? t + aligned : t + toEnd + aligned;
            if (required > limit && !ensureLimit(required)) {
                return null;
            }
            // Recorded before the tail moves, so that the consumer can pad this claim if we die
            // before its header is written.
            LONG.setOpaque(header, slot + POSITION_OFFSET, t);
            INT.setOpaque(header, slot + CLAIM_LENGTH_OFFSET, (int) size);
            if (!LONG.compareAndSet(header, TAIL_OFFSET, t, t + size)) {
                // Another producer claimed t: our slot must not say we did, or a consumer finding
                // that claim unfinished could pad it with our length (we may return null next, ring
                // full, and then leave or die while waiting for space).
                LONG.setOpaque(header, slot + POSITION_OFFSET, NO_CLAIM);
                continue;
            }
            if (size != aligned) {
                // The record does not fit before the ring's end: pad the end and claim again.
                LONG.compareAndSet(data, index, 0L, RecordDescriptor.header((int) size, PADDING_TYPE));
                continue;
            }
            // SYNC POINT: CAS from zero, so that a consumer that already padded this claim (taking
            // us for dead) wins, and we claim again.
            if (LONG.compareAndSet(data, index, 0L, RecordDescriptor.inProgressHeader(recordLength, slotIndex))) {
                claimPosition = t;
                claim.recordIndex = index;
                claim.recordLength = recordLength;
                claim.typeId = typeId;
                claim.active = true;
                return claim;
            }
        }
    }

    boolean commit(Claim c) {
        if (!c.active) {
            throw new IllegalStateException("nothing is claimed on channel \"" + channel.name + "\"");
        }
        c.active = false;
        return manyToOne ? commitShared(c.recordIndex, c.recordLength, c.typeId)
                : commitSingle(c.recordIndex, c.recordLength, c.typeId);
    }

    /**
     * Publishes a single producer's record. One release fence, then plain stores through the one
     * segment object: each acquire or release access is a barrier for the JIT, after which it
     * re-reads the segment's bounds and liveness for the next access, and on the round trip's
     * critical path those re-checks cost more than the stores (measured, 32-byte round trips
     * between processes, runs interleaved: 181-200 ns before, 171-180 after, with the lean poll).
     */
    private boolean commitSingle(long index, int recordLength, int typeId) {
        final MemorySegment segment = this.header;
        long t = tail + RecordDescriptor.aligned(recordLength);
        tail = t;
        long count = ++messages;
        // SYNC POINT: the release fence orders the payload written before it ahead of the header
        // store below, which publishes the record; consumers read the header with an acquire load.
        VarHandle.releaseFence();
        segment.set(PLAIN_LONG, dataBase + index, RecordDescriptor.header(recordLength, typeId));
        // The tail, the touch ahead and the message count need no order among themselves or after
        // the header: a reader of the tail (a joining subscriber, the checks on open, stat) takes
        // it as "at least this much was claimed", true in either order.
        segment.set(PLAIN_LONG, TAIL_OFFSET, t);
        if (zeroAhead && t + TOUCH_AHEAD + Long.BYTES <= cleanPosition) {
            // Zero over zero, beyond every committed record and below the clean position: no
            // reader can see a difference (consumers and subscribers never read past the tail).
            segment.set(PLAIN_LONG, dataBase + ((t + TOUCH_AHEAD) & mask), 0L);
        }
        segment.set(PLAIN_LONG, slot + MESSAGES_OFFSET, count);
        // SYNC POINT: a store-load fence between publishing and reading "consumers waiting", so
        // that a consumer going to sleep either sees this record or is seen here and woken. It
        // pairs with the consumer's increment of "consumers waiting" followed by a process-wide
        // barrier (ChannelConsumer.awaitMessages): that barrier runs a full fence on this CPU,
        // so this side needs none of its own once the process has joined (about 8% of the
        // throughput of 256-byte messages). Without the OS's barriers: a fence on every commit.
        if (fenceOnCommit) {
            VarHandle.fullFence();
        }
        afterCommit();
        return true;
    }

    private boolean commitShared(long index, int recordLength, int typeId) {
        // SYNC POINT: the CAS publishes the payload (volatile semantics) and fails only when the
        // consumer gave up on this record as stuck.
        boolean published = LONG.compareAndSet(data, index,
                RecordDescriptor.inProgressHeader(recordLength, slotIndex), RecordDescriptor.header(recordLength, typeId));
        if (published) {
            LONG.setOpaque(header, slot + MESSAGES_OFFSET, ++messages);
        } else {
            discardLateWrites(index, recordLength);
        }
        afterCommit();
        return published;
    }

    /**
     * Many-to-one, a record the consumer skipped as stuck (this producer stalled past the
     * stuck-record timeout): the consumer zeroed it and moved on, and what was written into it since
     * lies in free space, where a lap later producers claim records by CAS from zero and the consumer
     * reads headers. Left there, those bytes make another producer's claim fail and the consumer
     * read them as a header (corruption, or a record nobody finishes): zero them again, unless
     * the tail has come round to this space meanwhile (then it may be another record's already).
     */
    private void discardLateWrites(long index, int recordLength) {
        // Claims end at or below the tail: none overlaps this space a lap on while the tail is
        // below it (the header word stays the consumer's padding or zero: it is not ours to touch).
        if ((long) LONG.getVolatile(header, TAIL_OFFSET) <= claimPosition + capacity + HEADER_LENGTH) {
            data.asSlice(index + HEADER_LENGTH, RecordDescriptor.aligned(recordLength) - HEADER_LENGTH).fill((byte) 0);
        }
    }

    private void afterCommit() {
        if ((int) INT.getVolatile(header, CONSUMERS_WAITING_OFFSET) != 0) {
            wakeConsumers();
        }
        if (--heartbeatCountdown == 0) {
            heartbeatCountdown = HEARTBEAT_EVERY;
            channel.heartbeat(slot);
        }
    }

    void abort(Claim c) {
        if (!c.active) {
            throw new IllegalStateException("nothing is claimed on channel \"" + channel.name + "\"");
        }
        c.active = false;
        try {
            dropClaim(c);
        } catch (InternalError e) {
            throw channel.pagesGone(e);
        }
    }

    private void dropClaim(Claim c) {
        long index = c.recordIndex;
        if (manyToOne) {
            if (!LONG.compareAndSet(data, index, RecordDescriptor.inProgressHeader(c.recordLength, slotIndex),
                    RecordDescriptor.header(c.recordLength, PADDING_TYPE))) {
                discardLateWrites(index, c.recordLength);
            }
        } else {
            // Nothing was published (the header word at the claim is still 0). The caller may have
            // written payload bytes: clear them, so the stretch ahead stays zero where it was
            // zeroed ahead (zeroAhead).
            data.asSlice(index, RecordDescriptor.aligned(c.recordLength)).fill((byte) 0);
        }
    }

    /**
     * Copies a message into the channel.
     *
     * @param typeId the message's type id, 0 or more
     * @param payload the bytes
     * @return true when sent, false when the ring is full
     */
    public boolean offer(int typeId, byte[] payload) {
        Claim c = tryClaim(typeId, payload.length);
        if (c == null) {
            return false;
        }
        // The whole of it: the JVM raises a fault in compiled code at its next safepoint poll, as
        // late as the return.
        try {
            MemorySegment.copy(payload, 0, data, ValueLayout.JAVA_BYTE, c.offset(), payload.length);
            return c.commit();
        } catch (InternalError e) {
            c.active = false;
            throw channel.pagesGone(e);
        }
    }

    /**
     * Copies {@code length} bytes at {@code offset} of {@code source} into the channel as one message.
     *
     * @param typeId the message's type id, 0 or more
     * @param source where the payload is
     * @param offset its offset in {@code source}
     * @param length its length
     * @return true when sent, false when the ring is full
     */
    public boolean offer(int typeId, MemorySegment source, long offset, int length) {
        Claim c = tryClaim(typeId, length);
        if (c == null) {
            return false;
        }
        try {
            MemorySegment.copy(source, offset, data, c.offset(), length);
            return c.commit();
        } catch (InternalError e) {
            c.active = false;
            throw channel.pagesGone(e);
        }
    }

    /**
     * Copies a message into the channel, waiting up to {@code timeout} for space: it spins briefly,
     * then sleeps in the kernel until a consumer frees space.
     *
     * @param typeId the message's type id, 0 or more
     * @param payload the bytes
     * @param timeout how long to wait for space
     * @return true when sent, false when the timeout passed first
     * @throws InterruptedException when the thread is interrupted while waiting
     */
    public boolean send(int typeId, byte[] payload, Duration timeout) throws InterruptedException {
        try {
            return sendCopy(typeId, payload, timeout);
        } catch (InternalError e) {
            throw channel.pagesGone(e); // raised after offer returned: see offer
        }
    }

    private boolean sendCopy(int typeId, byte[] payload, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int spins = 0; ; spins++) {
            if (offer(typeId, payload)) {
                return true;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                awaitSpace(HEADER_LENGTH + payload.length, left);
            }
        }
    }

    /** Sleeps until consumers may have freed space, for at most {@code nanos} (in slices, for liveness checks). */
    private void awaitSpace(int recordLength, long nanos) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        try {
            waitForSpace(recordLength, nanos);
        } catch (InternalError e) {
            throw channel.pagesGone(e);
        }
    }

    private void waitForSpace(int recordLength, long nanos) {
        INT.getAndAdd(header, PRODUCERS_WAITING_OFFSET, 1);
        try {
            // SYNC POINT: the atomic increment above is a full fence on this side; the process-wide
            // barrier then runs one on every CPU running a consumer that skips its fence after
            // progress (ChannelConsumer.afterProgress): either that consumer's new position is
            // visible to ensureLimit below, or its later read of "producers waiting" sees us and it
            // bumps the signal. Where the barrier is unavailable those consumers fence every poll,
            // except any in a process that could join while we cannot: short slices bound what a
            // missed wake-up could cost.
            boolean barrier = channel.os.processWideBarrier();
            int seq = (int) INT.getVolatile(header, SPACE_SIGNAL_OFFSET);
            if (!ensureLimit(required(recordLength))) {
                channel.os.waitOnAddress(spaceSignal, seq, Math.min(nanos, barrier ? 10_000_000 : 1_000_000));
            }
        } finally {
            Channel.leaveWaiting(header, PRODUCERS_WAITING_OFFSET);
        }
        channel.heartbeat(slot);
    }

    /** The limit a record of this length needs at the current tail, padding included. */
    private long required(int recordLength) {
        long aligned = RecordDescriptor.aligned(recordLength);
        long t = manyToOne ? (long) LONG.getVolatile(header, TAIL_OFFSET) : tail;
        long toEnd = capacity - (t & mask);
        long end = aligned <= toEnd ? t + aligned : t + toEnd + aligned;
        return manyToOne ? end : end + HEADER_LENGTH;
    }

    private void wakeConsumers() {
        INT.getAndAdd(header, DATA_SIGNAL_OFFSET, 1);
        channel.os.wakeAddress(dataSignal, Integer.MAX_VALUE);
    }

    // ---------------------------------------------------------------------------------------------
    // Space

    /** Refreshes the limit from the consumers' positions; true when {@code required} fits under it. */
    private boolean ensureLimit(long required) {
        limit = computeLimit();
        if (required <= limit) {
            return true;
        }
        if (publishSubscribe) {
            long now = System.nanoTime();
            if (now - lastLivenessCheck >= LIVENESS_CHECK_INTERVAL_NANOS) {
                lastLivenessCheck = now;
                if (dropDeadSubscribers(required)) {
                    limit = computeLimit();
                }
            }
        }
        return required <= limit;
    }

    private long computeLimit() {
        if (!publishSubscribe) {
            // SYNC POINT: pairs with the consumer's release store of its position: the space it
            // freed (and, in many-to-one, zeroed) is ours to write.
            return (long) LONG.getAcquire(header, consumerPositionAddress) + capacity;
        }
        long min = Long.MAX_VALUE;
        for (int i = 0; i < channel.consumerSlots; i++) {
            long s = channel.consumerSlot(i);
            int state = SlotDescriptor.state((long) LONG.getAcquire(header, s + OWNER_OFFSET));
            if (state == ACTIVE || state == CLAIMING) {
                min = Math.min(min, (long) LONG.getAcquire(header, s + POSITION_OFFSET));
            }
        }
        long base = manyToOne ? (long) LONG.getVolatile(header, TAIL_OFFSET) : tail;
        return min == Long.MAX_VALUE ? base + capacity : min + capacity;
    }

    /** Marks subscribers whose process died, and that hold us back, as dead; true when any was. */
    private boolean dropDeadSubscribers(long required) {
        boolean dropped = false;
        for (int i = 0; i < channel.consumerSlots; i++) {
            long s = channel.consumerSlot(i);
            long owner = (long) LONG.getAcquire(header, s + OWNER_OFFSET);
            int state = SlotDescriptor.state(owner);
            if ((state == ACTIVE || state == CLAIMING)
                    && (long) LONG.getAcquire(header, s + POSITION_OFFSET) + capacity < required
                    && !channel.ownerAlive(s, owner)) {
                dropped |= LONG.compareAndSet(header, s + OWNER_OFFSET, owner,
                        SlotDescriptor.owner(DEAD, SlotDescriptor.pid(owner)));
            }
        }
        return dropped;
    }

    /** Clears a header word a consumer may read next; skips the store (and the cache line's invalidation) when it is already 0. */
    private void clearHeaderWord(long index) {
        if ((long) LONG.get(data, index) != 0L) {
            LONG.set(data, index, 0L);
        }
    }

    /**
     * Moves the clean position (the bytes this producer may overwrite) ahead of the tail, at least
     * up to {@code required}, in chunks, never into bytes a live consumer has not read; zeroes the
     * chunk when {@code zero}.
     */
    private boolean reserve(long required, boolean zero) {
        long from = cleanPosition;
        long to = Math.min(limit, Math.max(required, from + CLEAN_CHUNK));
        if (publishSubscribe) {
            // SYNC POINT: publish the intent, then re-read the subscribers (a full fence between):
            // a subscriber resuming at an old position either is seen here and respected, or sees
            // the new clean position after its own fence and skips ahead (ChannelConsumer.join).
            LONG.setRelease(header, CLEAN_POSITION_OFFSET, to);
            VarHandle.fullFence();
            long bound = computeLimit();
            if (bound < to) {
                to = Math.max(from, bound);
                LONG.setRelease(header, CLEAN_POSITION_OFFSET, to);
            }
        }
        if (zero) {
            // After large records the stretch from the tail was left as it was: zero from there.
            zero(zeroAhead ? from : Math.min(from, tail), to);
        }
        zeroAhead = zero;
        cleanPosition = to;
        LONG.setRelease(header, CLEAN_POSITION_OFFSET, to);
        return to >= required;
    }

    private void zero(long from, long to) {
        if (to <= from) {
            return;
        }
        long index = from & mask;
        long length = to - from;
        long first = Math.min(length, capacity - index);
        data.asSlice(index, first).fill((byte) 0);
        if (first < length) {
            data.asSlice(0, length - first).fill((byte) 0);
        }
    }

    private IllegalArgumentException badClaim(int typeId, int length) {
        if (claim.active) {
            throw new IllegalStateException("the previous claim on channel \"" + channel.name
                    + "\" was neither committed nor aborted");
        }
        if (typeId < 0) {
            return new IllegalArgumentException("message type id " + typeId + " is negative (channel \""
                    + channel.name + "\")");
        }
        return new IllegalArgumentException("message length " + length + " is outside 0.." + maxMessageLength
                + ", the largest message channel \"" + channel.name + "\" accepts");
    }

    /** Aborts any open claim and leaves the producer slot. Closing twice does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (claim.active) {
            abort(claim);
        }
        channel.release(slot);
    }

    @Override
    public String toString() {
        return "ChannelProducer[" + channel.name + ", slot " + slotIndex + "]";
    }
}
