package io.shmkit.internal.layout;

/**
 * A record in a channel's ring: an 8-byte header, then the payload; records start at multiples of
 * 8 and never wrap (a padding record fills the ring's end instead).
 *
 * <pre>
 *  offset  size  field
 *  ------  ----  -------------------------------------------------------------------------
 *       0     4  length: header + payload bytes, at least 8. Readers take the header as one
 *                64-bit word with an acquire load: non-zero length means the record is committed.
 *                Many-to-one channels: negative while a producer writes it (minus the length).
 *       4     4  type: the user's type id (0 or more), or -1 for padding. While the record is
 *                being written in a many-to-one channel: the producer's slot index.
 *       8     n  payload (n = length - 8), then filler up to the next multiple of 8 (any bytes)
 * </pre>
 *
 * <p>A header word of 0 means "nothing here yet". In single-producer kinds the producer clears the
 * header word after each record before publishing the record, so the word at the tail always reads
 * 0; the bytes beyond it are whatever an earlier lap left. In many-to-one channels the consumer
 * zeroes each record after reading it, since producers claim space by CAS from 0.
 */
public final class RecordDescriptor {
    private RecordDescriptor() {
    }

    public static final int HEADER_LENGTH = 8;
    public static final int ALIGNMENT = 8;
    public static final int PADDING_TYPE = -1;

    /** Record bytes, header included, for a payload of {@code length} bytes. */
    public static int recordLength(int payloadLength) {
        return HEADER_LENGTH + payloadLength;
    }

    /** Bytes a record takes in the ring: its length rounded up to {@link #ALIGNMENT}. */
    public static int aligned(int recordLength) {
        return (recordLength + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** The header word of a committed record. */
    public static long header(int recordLength, int type) {
        return ((long) type << 32) | (recordLength & 0xffffffffL);
    }

    /** The header word of a record a many-to-one producer is still writing. */
    public static long inProgressHeader(int recordLength, int producerSlot) {
        return ((long) producerSlot << 32) | (-recordLength & 0xffffffffL);
    }

    public static int length(long header) {
        return (int) header;
    }

    public static int type(long header) {
        return (int) (header >>> 32);
    }
}
