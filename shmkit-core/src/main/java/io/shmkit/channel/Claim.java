package io.shmkit.channel;

import java.lang.foreign.MemorySegment;

/**
 * Space claimed in a channel's ring by {@link ChannelProducer#tryClaim(int, int)}: write the
 * payload in place, then {@link #commit()} to publish it or {@link #abort()} to drop it. The claimed
 * bytes are not cleared first (they hold what an earlier message left): write all of them. The
 * producer reuses one {@code Claim} object, so claiming allocates nothing; it is valid until commit
 * or abort.
 */
public final class Claim {
    private final ChannelProducer producer;
    private final MemorySegment buffer;
    long recordIndex;
    int recordLength;
    int typeId;
    boolean active;

    Claim(ChannelProducer producer, MemorySegment buffer) {
        this.producer = producer;
        this.buffer = buffer;
    }

    /** @return the channel's ring, in which the claimed payload lies */
    public MemorySegment buffer() {
        return buffer;
    }

    /** @return where the payload starts in {@link #buffer()} */
    public long offset() {
        return recordIndex + 8;
    }

    /** @return the payload length that was claimed */
    public int length() {
        return recordLength - 8;
    }

    /** @return the claimed payload as a segment of its own (a slice of the ring) */
    public MemorySegment segment() {
        return buffer.asSlice(recordIndex + 8, recordLength - 8);
    }

    /**
     * Publishes the message.
     *
     * @return true; false only in a many-to-one channel whose consumer gave up on this record
     *         because it was left unfinished longer than the channel's stuck-record timeout
     * @throws IllegalStateException when nothing is claimed
     */
    public boolean commit() {
        return producer.commit(this);
    }

    /**
     * Drops the claimed space: consumers skip it.
     *
     * @throws IllegalStateException when nothing is claimed
     */
    public void abort() {
        producer.abort(this);
    }
}
