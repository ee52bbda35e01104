package io.shmkit.channel;

import io.shmkit.Lifetime;
import io.shmkit.SegmentOptions;
import io.shmkit.internal.layout.ChannelDescriptor;

import java.time.Duration;
import java.util.Objects;

/**
 * How a channel is created: ring capacity, largest message, participant slots, the segment's
 * permissions and lifetime, and how long a live producer may leave a record unfinished.
 * Immutable; each method returns a changed copy.
 */
public final class ChannelOptions {

    private static final ChannelOptions DEFAULTS = new ChannelOptions(4 << 20, -1, 64, 16,
            SegmentOptions.defaults(), Duration.ofSeconds(5));

    private final long capacity;
    private final int maxMessageLength;
    private final int maxProducers;
    private final int maxSubscribers;
    private final SegmentOptions segmentOptions;
    private final Duration stuckRecordTimeout;

    private ChannelOptions(long capacity, int maxMessageLength, int maxProducers, int maxSubscribers,
                           SegmentOptions segmentOptions, Duration stuckRecordTimeout) {
        this.capacity = capacity;
        this.maxMessageLength = maxMessageLength;
        this.maxProducers = maxProducers;
        this.maxSubscribers = maxSubscribers;
        this.segmentOptions = segmentOptions;
        this.stuckRecordTimeout = stuckRecordTimeout;
    }

    /**
     * The defaults: a 4 MiB ring, messages up to an eighth of it, 64 producer slots (many-to-one),
     * 16 subscriber slots (publish-subscribe), permissions 0600, lifetime until last close, and 5 s
     * for a live producer's unfinished record. The ring is larger than a core's second-level cache
     * on today's servers (1-2 MiB) for throughput's sake: a producer that comes back to lines the
     * consumer's cache still holds must take them back one by one (256-byte messages, measured:
     * 17.6-19.7 M msg/s with a 1 MiB ring, 19.6-23.9 M with 4 MiB). Choose a smaller one to save
     * memory.
     *
     * @return the default options
     */
    public static ChannelOptions defaults() {
        return DEFAULTS;
    }

    /**
     * The size of the ring of records.
     *
     * @param bytes a power of two from 4096 to 2^30
     * @return changed options
     */
    public ChannelOptions capacity(long bytes) {
        if (bytes < ChannelDescriptor.MIN_CAPACITY || bytes > ChannelDescriptor.MAX_CAPACITY
                || Long.bitCount(bytes) != 1) {
            throw new IllegalArgumentException("channel capacity " + bytes
                    + " must be a power of two from 4096 to 1073741824 bytes");
        }
        return new ChannelOptions(bytes, maxMessageLength, maxProducers, maxSubscribers, segmentOptions,
                stuckRecordTimeout);
    }

    /**
     * The largest payload a message may have.
     *
     * @param bytes from 0 to an eighth of the capacity less 8
     * @return changed options
     */
    public ChannelOptions maxMessageLength(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("max message length " + bytes + " is negative");
        }
        return new ChannelOptions(capacity, bytes, maxProducers, maxSubscribers, segmentOptions, stuckRecordTimeout);
    }

    /**
     * How many producers a many-to-one channel can have at once.
     *
     * @param count from 1 to 4096
     * @return changed options
     */
    public ChannelOptions maxProducers(int count) {
        checkSlots("producers", count);
        return new ChannelOptions(capacity, maxMessageLength, count, maxSubscribers, segmentOptions, stuckRecordTimeout);
    }

    /**
     * How many subscribers a publish-subscribe channel can have at once.
     *
     * @param count from 1 to 4096
     * @return changed options
     */
    public ChannelOptions maxSubscribers(int count) {
        checkSlots("subscribers", count);
        return new ChannelOptions(capacity, maxMessageLength, maxProducers, count, segmentOptions, stuckRecordTimeout);
    }

    /**
     * Permissions and lifetime of the channel's segment.
     *
     * @param options segment options (access is read-write, except that {@link Channel#open(String,
     *        ChannelOptions)} opens read-only with {@link io.shmkit.Access#READ_ONLY}, to look at a channel)
     * @return changed options
     */
    public ChannelOptions segmentOptions(SegmentOptions options) {
        return new ChannelOptions(capacity, maxMessageLength, maxProducers, maxSubscribers,
                Objects.requireNonNull(options, "options"), stuckRecordTimeout);
    }

    /**
     * Shortcut for the segment's lifetime: {@link Lifetime#PERSISTENT} keeps the channel, and the
     * messages in it, when no process has it open.
     *
     * @param lifetime the lifetime
     * @return changed options
     */
    public ChannelOptions lifetime(Lifetime lifetime) {
        return segmentOptions(segmentOptions.lifetime(lifetime));
    }

    /**
     * How long the consumer of a many-to-one channel waits for a <em>live</em> producer to finish
     * a record it claimed before skipping it (the producer's {@code commit} then returns false). A
     * producer found dead is skipped at once.
     *
     * @param timeout a positive duration
     * @return changed options
     */
    public ChannelOptions stuckRecordTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("stuck record timeout must be positive, not " + timeout);
        }
        return new ChannelOptions(capacity, maxMessageLength, maxProducers, maxSubscribers, segmentOptions, timeout);
    }

    private static void checkSlots(String what, int count) {
        if (count < 1 || count > ChannelDescriptor.MAX_SLOTS) {
            throw new IllegalArgumentException("max " + what + " " + count + " must be from 1 to "
                    + ChannelDescriptor.MAX_SLOTS);
        }
    }

    /** @return the ring capacity in bytes */
    public long capacity() {
        return capacity;
    }

    /** @return the largest payload; by default an eighth of the capacity less the record header */
    public int maxMessageLength() {
        return maxMessageLength >= 0 ? maxMessageLength : ChannelDescriptor.maxMessageLengthFor(capacity);
    }

    /** @return producer slots of a many-to-one channel */
    public int maxProducers() {
        return maxProducers;
    }

    /** @return subscriber slots of a publish-subscribe channel */
    public int maxSubscribers() {
        return maxSubscribers;
    }

    /** @return the segment's options */
    public SegmentOptions segmentOptions() {
        return segmentOptions;
    }

    /** @return how long a live producer's unfinished record may block a many-to-one consumer */
    public Duration stuckRecordTimeout() {
        return stuckRecordTimeout;
    }
}
