package io.shmkit.channel;

import io.shmkit.SegmentFormatException;
import io.shmkit.internal.layout.RecordDescriptor;
import io.shmkit.internal.layout.SlotDescriptor;

import java.lang.foreign.MemorySegment;
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
import static io.shmkit.internal.layout.SlotDescriptor.MESSAGES_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.OWNER_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.POSITION_OFFSET;
import static io.shmkit.internal.layout.SlotDescriptor.RETIRING_OFFSET;

/**
 * Receives messages from a channel: its consumer (one-to-one, many-to-one) or one of its
 * subscribers (publish-subscribe). Not thread-safe: one thread polls it.
 *
 * <p>{@link #poll} reads messages in place and allocates nothing. After each message's handler
 * returns, the consumer's position is committed in the segment (a release store to its own cache
 * line), so a consumer that is killed and restarted resumes after the last message it finished:
 * none is lost, and only a message whose handler was still running when the process died is
 * delivered again (at-least-once for the message in flight). A handler that throws leaves its
 * message unconsumed: the next poll delivers it again.
 *
 * <p>In a many-to-one channel, a record a producer left unfinished is skipped once the producer is
 * found dead (checked after the record has waited 1 ms), or after the channel's stuck-record
 * timeout if it is alive; the consumer zeroes what it read so producers can claim it again.
 */
public final class ChannelConsumer implements AutoCloseable {

    private static final int IDLE_POLLS_PER_CHECK = 256;
    /** A consumer that is never idle beats every this many polls that deliver, as producers do per commits. */
    private static final int BUSY_POLLS_PER_HEARTBEAT = 256;
    private static final long STUCK_GRACE_NANOS = 1_000_000;

    private final Channel channel;
    private final MemorySegment header;
    private final MemorySegment data;
    private final long capacity;
    private final long mask;
    private final int maxMessageLength;
    private final boolean manyToOne;
    /**
     * Whether each poll that consumed something needs its own store-load fence. Not where this
     * process joined the OS's process-wide barriers: a producer about to sleep for space then issues
     * one, which stands in for the fence on this side (see afterProgress).
     */
    private final boolean fenceAfterProgress;
    private final int slotIndex;
    private final long slot;
    private final MemorySegment dataSignal;
    private final Message message;
    private final long lostBytes;

    private long position;
    private long messages;
    private int idlePolls;
    private long stuckPosition = -1;
    private long stuckSince;
    private long lastHeartbeat;
    private int busyPollsToHeartbeat = BUSY_POLLS_PER_HEARTBEAT;
    private ReceivedMessage received;
    private final MessageHandler copier = m -> received = new ReceivedMessage(m.typeId(), m.bytes());
    private boolean closed;

    ChannelConsumer(Channel channel, int slotIndex, boolean subscriber, boolean resuming) {
        this.channel = channel;
        this.header = channel.header;
        this.data = channel.data;
        this.capacity = channel.capacity;
        this.mask = channel.mask;
        this.maxMessageLength = channel.maxMessageLength;
        this.manyToOne = channel.kind == ChannelKind.MANY_TO_ONE;
        this.fenceAfterProgress = !channel.os.joinProcessWideBarriers();
        this.slotIndex = slotIndex;
        this.slot = channel.consumerSlot(slotIndex - channel.producerSlots);
        this.dataSignal = header.asSlice(DATA_SIGNAL_OFFSET, 4);
        this.message = new Message(data.asReadOnly());
        if (subscriber && !resuming) {
            LONG.setRelease(header, slot + MESSAGES_OFFSET, 0L);
        }
        this.messages = (long) LONG.getVolatile(header, slot + MESSAGES_OFFSET);
        this.lostBytes = subscriber ? joinAsSubscriber(resuming) : resume();
    }

    /** Consumers resume from the position their predecessor committed. */
    private long resume() {
        position = (long) LONG.getAcquire(header, slot + POSITION_OFFSET);
        if (manyToOne) {
            finishRetiring();
        }
        channel.activate(slot);
        return 0;
    }

    /**
     * A many-to-one predecessor that died while zeroing a record it had consumed (its handler had
     * returned) left the record at our position half zeroed: finish the job and move past it.
     */
    private void finishRetiring() {
        long retiring = (long) LONG.getVolatile(header, slot + RETIRING_OFFSET);
        int length = (int) retiring;
        long index = position & mask;
        if (SlotDescriptor.retiringAt(retiring, position) && length >= HEADER_LENGTH && length <= capacity - index
                && (length & 7) == 0) {
            data.asSlice(index, length).fill((byte) 0);
            position += length;
            LONG.setRelease(header, slot + POSITION_OFFSET, position);
        }
    }

    /**
     * A subscriber starts at the tail, or (named, coming back) where it stopped if those bytes are
     * still intact; returns how many bytes it missed.
     */
    private long joinAsSubscriber(boolean resuming) {
        long start = resuming ? (long) LONG.getAcquire(header, slot + POSITION_OFFSET)
                : (long) LONG.getAcquire(header, TAIL_OFFSET);
        long missed = 0;
        while (true) {
            // Never announce a position the producer is already known to have cleaned over: until
            // the check below moved it on, an ACTIVE slot that far behind would hold the producer
            // back and make anyone opening the channel meanwhile report it corrupted.
            long cleanBefore = (long) LONG.getVolatile(header, CLEAN_POSITION_OFFSET);
            if (cleanBefore - start > capacity) {
                long tail = (long) LONG.getAcquire(header, TAIL_OFFSET);
                missed += tail - start;
                start = tail;
            }
            LONG.setRelease(header, slot + POSITION_OFFSET, start);
            channel.activate(slot);
            // SYNC POINT: full fence between announcing our position and reading how far the
            // producer has cleaned (pairs with ChannelProducer.clean): either the producer sees us
            // and leaves our bytes alone, or we see that it overwrote them and skip ahead.
            VarHandle.fullFence();
            long clean = (long) LONG.getVolatile(header, CLEAN_POSITION_OFFSET);
            if (clean - start <= capacity) {
                position = start;
                return missed;
            }
            long tail = (long) LONG.getAcquire(header, TAIL_OFFSET);
            missed += tail - start;
            start = tail;
        }
    }

    /** @return the channel this consumer reads */
    public Channel channel() {
        return channel;
    }

    /** @return the position of the next message to read (bytes since the channel began) */
    public long position() {
        return position;
    }

    /** @return bytes published that this consumer has not read yet */
    public long lag() {
        try {
            return Math.max(0, (long) LONG.getVolatile(header, TAIL_OFFSET) - position);
        } catch (InternalError e) {
            throw channel.pagesGone(e);
        }
    }

    /**
     * For a named subscriber coming back: how many bytes of messages were overwritten while it was
     * away (0 when it resumed with nothing lost).
     *
     * @return bytes missed when joining
     */
    public long lostBytes() {
        return lostBytes;
    }

    /**
     * Delivers up to {@code limit} available messages to {@code handler}, in order, without waiting.
     *
     * @param handler called once per message
     * @param limit the most messages to deliver, at least 1
     * @return how many messages were delivered (0 when none was available)
     * @throws IllegalArgumentException when {@code limit} is less than 1
     * @throws IllegalStateException when the channel's ring is found corrupted (with a
     *         {@link SegmentFormatException} as cause)
     * @throws InternalError when the channel's segment was truncated under this process: the JVM
     *         reports such a fault in compiled code at its next safepoint, possibly after this method
     *         returned, so the hot methods (this, {@code tryClaim}, {@code commit}) leave it as it is
     *         rather than pay for a translation that could not be relied on; the blocking and copying
     *         methods turn it into an IllegalStateException naming the channel
     */
    public int poll(MessageHandler handler, int limit) {
        if (limit < 1) {
            throw badLimit(limit);
        }
        long pos = position;
        // SYNC POINT: acquire load of the header; pairs with the producer's release store (or CAS)
        // that published the record, so the payload read after it is complete.
        long h = (long) LONG.getAcquire(data, pos & mask);
        if (RecordDescriptor.length(h) <= 0) {
            // The empty poll stays this small so that it inlines into the caller's spin loop.
            if (++idlePolls >= IDLE_POLLS_PER_CHECK) {
                idlePolls = 0;
                checkIdle(pos, h);
            }
            return 0;
        }
        return deliver(handler, limit, pos, h);
    }

    /**
     * Delivers messages starting with the record whose header {@code h} was read at {@code pos},
     * committing the position after each handler returns. A single producer's consumer commits with
     * one release fence and a plain store through the whole segment, so the JIT checks that segment
     * once (see ChannelProducer.commitSingle); a many-to-one consumer first gives the record's space
     * back zeroed.
     */
    private int deliver(MessageHandler handler, int limit, long pos, long h) {
        final MemorySegment data = this.data;
        final MemorySegment segment = this.header;
        final long mask = this.mask;
        final long positionOffset = slot + POSITION_OFFSET;
        int count = 0;
        // finally: a handler that throws leaves its own message unconsumed, but the messages before
        // it were committed, so they must be counted (and waiting producers woken) all the same.
        try {
            while (true) {
                long index = pos & mask;
                int length = checkedLength(pos, h);
                int type = RecordDescriptor.type(h);
                if (type != PADDING_TYPE) {
                    message.wrap(type, index + HEADER_LENGTH, length - HEADER_LENGTH);
                    handler.onMessage(message);
                    count++;
                }
                long aligned = RecordDescriptor.aligned(length);
                if (manyToOne) {
                    retire(pos, index, aligned);
                }
                pos += aligned;
                position = pos;
                // SYNC POINT: the release fence and store commit the message; producers read the
                // position with an acquire load before reusing the space (and, in many-to-one, find
                // it zeroed: the zeroing in retire comes before the fence).
                VarHandle.releaseFence();
                segment.set(PLAIN_LONG, positionOffset, pos);
                if (count >= limit) {
                    break;
                }
                // SYNC POINT: acquire load of the next header, as in poll.
                h = (long) LONG.getAcquire(data, pos & mask);
                if (RecordDescriptor.length(h) <= 0) {
                    break;
                }
            }
        } finally {
            afterProgress(count);
        }
        return count;
    }

    /**
     * Many-to-one: producers claim space by CAS from zero, so give the record's space back zeroed.
     * The slot says first which record is being zeroed: if this process dies before the position is
     * committed, the header may be gone, and with it the record's length.
     */
    private void retire(long pos, long index, long aligned) {
        LONG.setOpaque(header, slot + RETIRING_OFFSET, SlotDescriptor.retiring(pos, aligned));
        VarHandle.storeStoreFence();
        data.asSlice(index, aligned).fill((byte) 0);
    }

    /** The record length in header {@code h} at {@code pos}, checked against what any producer could write. */
    private int checkedLength(long pos, long h) {
        int length = RecordDescriptor.length(h);
        long index = pos & mask;
        if (length < HEADER_LENGTH || length > capacity - index) {
            throw corrupted(pos, h, "a record length outside " + HEADER_LENGTH + ".." + (capacity - index));
        }
        int type = RecordDescriptor.type(h);
        if (type != PADDING_TYPE) {
            if (type < 0 || length - HEADER_LENGTH > maxMessageLength) {
                throw corrupted(pos, h, "a type id or length no producer could write");
            }
        } else if (!manyToOne && length != capacity - index) {
            // A single producer pads only the rest of the ring: skipping a shorter padding would land
            // in the middle of the records after it.
            throw corrupted(pos, h, "padding that does not end at the ring's end (" + (capacity - index)
                    + " bytes on)");
        }
        return length;
    }

    private void afterProgress(int count) {
        if (count > 0) {
            messages += count;
            header.set(PLAIN_LONG, slot + MESSAGES_OFFSET, messages);
        }
        // The idle path beats too, but a consumer that keeps up with a busy producer never takes it.
        if (--busyPollsToHeartbeat == 0) {
            busyPollsToHeartbeat = BUSY_POLLS_PER_HEARTBEAT;
            channel.heartbeat(slot);
        }
        // SYNC POINT: a store-load fence between committing the position and reading "producers
        // waiting", so that a producer going to sleep for space either sees the space or is seen
        // here and woken. It pairs with the producer's increment of "producers waiting" followed by
        // a process-wide barrier (ChannelProducer.awaitSpace), which runs a full fence on this CPU:
        // once this process has joined, this side needs none of its own (one fence per poll that
        // consumed something: a round trip of small messages pays one per message).
        if (fenceAfterProgress) {
            VarHandle.fullFence();
        }
        if ((int) INT.getVolatile(header, PRODUCERS_WAITING_OFFSET) != 0) {
            INT.getAndAdd(header, SPACE_SIGNAL_OFFSET, 1);
            channel.os.wakeAddress(header.asSlice(SPACE_SIGNAL_OFFSET, 4), Integer.MAX_VALUE);
        }
    }

    /** The slow path of an empty poll, every IDLE_POLLS_PER_CHECK: heartbeats, and unfinished records in many-to-one channels. */
    private void checkIdle(long pos, long h) {
        long nowMillis = System.currentTimeMillis();
        if (nowMillis - lastHeartbeat >= Channel.heartbeatInterval()) {
            lastHeartbeat = nowMillis;
            channel.heartbeat(slot);
        }
        // A header word that is not 0 yet names no record is never written: single producers
        // publish a whole committed header over 0, and in many-to-one the length is negative
        // while a producer writes. Waiting on it would wait forever while the ring fills.
        if (h != 0 && (!manyToOne || RecordDescriptor.length(h) == 0)) {
            throw corrupted(pos, h, "neither a record nor empty");
        }
        if (!manyToOne) {
            return;
        }
        if (h == 0 && (long) LONG.getVolatile(header, TAIL_OFFSET) <= pos) {
            stuckPosition = -1; // simply nothing to read
            return;
        }
        long now = System.nanoTime();
        if (stuckPosition != pos) {
            stuckPosition = pos;
            stuckSince = now;
            return;
        }
        long stuckFor = now - stuckSince;
        if (stuckFor >= STUCK_GRACE_NANOS) {
            skipUnfinished(pos, h, stuckFor >= channel.stuckRecordTimeoutNanos);
        }
    }

    /** Turns a record its producer left unfinished into padding, when that producer is dead or timed out. */
    private void skipUnfinished(long pos, long h, boolean timedOut) {
        long index = pos & mask;
        int length = RecordDescriptor.length(h);
        if (length < 0) {
            int recordLength = -length;
            int producer = RecordDescriptor.type(h);
            if (producer < 0 || producer >= channel.producerSlots || recordLength < HEADER_LENGTH
                    || recordLength > capacity - index) {
                throw corrupted(pos, h, "an unfinished record with an impossible producer or length");
            }
            long producerSlot = channel.producerSlot(producer);
            long owner = (long) LONG.getVolatile(header, producerSlot + OWNER_OFFSET);
            if (timedOut || !channel.ownerAlive(producerSlot, owner)) {
                LONG.compareAndSet(data, index, h, RecordDescriptor.header(recordLength, PADDING_TYPE));
            }
            return;
        }
        // Header still zero although the tail moved past: a producer claimed the space and did not
        // write the header. Its slot says how long the claim was. A slot left cleanly (CLOSED) has
        // no such claim (a claim's header follows its tail CAS in the same call), whatever position
        // it still shows: that of a tail CAS it lost, say. Any live producer whose slot shows this
        // position may be the claimant, about to write the header: wait for it.
        int padLength = 0;
        for (int i = 0; i < channel.producerSlots; i++) {
            long producerSlot = channel.producerSlot(i);
            if ((long) LONG.getVolatile(header, producerSlot + POSITION_OFFSET) != pos) {
                continue;
            }
            int claimLength = (int) INT.getVolatile(header, producerSlot + CLAIM_LENGTH_OFFSET);
            long owner = (long) LONG.getVolatile(header, producerSlot + OWNER_OFFSET);
            int state = SlotDescriptor.state(owner);
            if (state != ACTIVE && state != CLAIMING) {
                continue;
            }
            if (channel.ownerAlive(producerSlot, owner)) {
                return;
            }
            if (padLength == 0 && claimLength >= HEADER_LENGTH && claimLength <= capacity - index
                    && (claimLength & 7) == 0) {
                padLength = claimLength;
            }
        }
        if (padLength != 0) {
            LONG.compareAndSet(data, index, 0L, RecordDescriptor.header(padLength, PADDING_TYPE));
        } else if (timedOut) {
            // No producer, live or dead, says it claimed this space, and none will write here: waiting
            // on would stop this channel for good.
            throw corrupted(pos, h, "no record although the tail is past it, and no producer slot claims it");
        }
    }

    private IllegalArgumentException badLimit(int limit) {
        return new IllegalArgumentException("poll limit " + limit + " is less than 1 (channel \"" + channel.name + "\")");
    }

    private IllegalStateException corrupted(long pos, long h, String what) {
        SegmentFormatException e = new SegmentFormatException(channel.name, "channel \"" + channel.name
                + "\" is corrupted: the record header at position " + pos + " (ring offset " + (pos & mask)
                + ") is 0x" + Long.toHexString(h) + ", " + what);
        return new IllegalStateException(e.getMessage(), e);
    }

    /**
     * Waits until a message may be available, for at most {@code timeout}: spins briefly, then sleeps
     * in the kernel on the channel's futex word until a producer commits.
     *
     * @param timeout the longest wait
     * @return true when a message is available, false when the time passed first
     * @throws InterruptedException when the thread is interrupted while waiting
     */
    public boolean awaitMessages(Duration timeout) throws InterruptedException {
        return awaitMessages(timeout.toNanos());
    }

    boolean awaitMessages(long nanos) throws InterruptedException {
        try {
            return awaitAvailable(nanos);
        } catch (InternalError e) {
            throw channel.pagesGone(e);
        }
    }

    private boolean awaitAvailable(long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        for (int spin = 0; spin < 200; spin++) {
            if (available()) {
                return true;
            }
            Thread.onSpinWait();
        }
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            long left = deadline - System.nanoTime();
            if (available()) {
                return true;
            }
            if (left <= 0) {
                return false;
            }
            INT.getAndAdd(header, CONSUMERS_WAITING_OFFSET, 1);
            try {
                // SYNC POINT: the atomic increment above is a full fence on this side; the
                // process-wide barrier then runs one on every CPU running a producer that skips its
                // commit fence (ChannelProducer.commit): either that producer's record is visible
                // to available() below, or its later read of "consumers waiting" sees us and it
                // bumps the signal. Where the barrier is unavailable the producers fence every
                // commit, except any in a process that could join while we cannot: short slices
                // bound what a missed wake-up could cost. Many-to-one producers commit with a CAS,
                // a full fence of their own: no barrier needed.
                boolean barrier = manyToOne || channel.os.processWideBarrier();
                int seq = (int) INT.getVolatile(header, DATA_SIGNAL_OFFSET);
                if (available()) {
                    return true;
                }
                // Slices: to notice interrupts, and unfinished records of dead producers.
                channel.os.waitOnAddress(dataSignal, seq, Math.min(left, barrier ? 10_000_000 : 1_000_000));
            } finally {
                Channel.leaveWaiting(header, CONSUMERS_WAITING_OFFSET);
            }
            long index = position & mask;
            long h = (long) LONG.getAcquire(data, index);
            if (RecordDescriptor.length(h) <= 0) {
                checkIdle(position, h);
            }
        }
    }

    private boolean available() {
        return RecordDescriptor.length((long) LONG.getAcquire(data, position & mask)) > 0;
    }

    /**
     * Waits up to {@code timeout} for the next message and returns a copy of it: for code that does
     * not want a polling loop.
     *
     * @param timeout the longest wait
     * @return the message, or null when none came in time
     * @throws InterruptedException when the thread is interrupted while waiting
     */
    public ReceivedMessage receive(Duration timeout) throws InterruptedException {
        // The whole of it: the JVM raises a fault in compiled code at its next safepoint poll,
        // which may come after poll returned.
        try {
            return receiveCopy(timeout);
        } catch (InternalError e) {
            throw channel.pagesGone(e);
        }
    }

    private ReceivedMessage receiveCopy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            received = null;
            if (poll(copier, 1) == 1) {
                ReceivedMessage m = received;
                received = null;
                return m;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || !awaitMessages(left)) {
                if (poll(copier, 1) == 1) {
                    return received;
                }
                return null;
            }
        }
    }

    /**
     * An idle strategy for polling loops that spins briefly, then sleeps in the kernel until a
     * producer commits (or 100 ms pass, so the loop can check its own state): a waiting consumer
     * uses no CPU and still wakes within microseconds. An interrupt ends the sleep and stays set.
     *
     * @return a strategy bound to this consumer
     */
    public IdleStrategy blockingIdleStrategy() {
        return new IdleStrategy() {
            @Override
            public void idle(int workCount) {
                if (workCount > 0) {
                    return;
                }
                try {
                    awaitMessages(100_000_000L);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void reset() {
            }

            @Override
            public String toString() {
                return "blocking";
            }
        };
    }

    /** Leaves the slot; the position stays in the segment for a successor. Closing twice does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        channel.release(slot);
    }

    @Override
    public String toString() {
        return "ChannelConsumer[" + channel.name + ", slot " + (slotIndex - channel.producerSlots) + "]";
    }
}
