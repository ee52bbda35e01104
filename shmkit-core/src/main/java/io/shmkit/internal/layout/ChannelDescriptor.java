package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The binary layout of a channel segment, version 1. All integers are little-endian, naturally
 * aligned; positions are absolute byte counts that only grow (the ring index is
 * {@code position & (capacity - 1)}); nothing in the segment is an address.
 *
 * <pre>
 *  offset  size  field                                     written by
 *  ------  ----  ----------------------------------------  -------------------------------------
 *       0     8  magic "SHMKCHAN" (0x4E4148434B4D4853)      creator, LAST, release store
 *       8     4  version (1)                               creator
 *      12     4  kind: 1 one-to-one, 2 many-to-one,         creator
 *                3 publish-subscribe
 *      16     8  capacity of the data ring, power of two   creator
 *      24     4  max message length (payload bytes)         creator
 *      28     4  producer slots                             creator
 *      32     4  consumer slots                             creator
 *      36     4  reserved (0)
 *      40     8  data offset (page aligned)                 creator
 *      48     8  slots offset                               creator
 *      56     8  creation time, ms since the epoch          creator
 *  ---- cache line 1 (64): producer side
 *      64     8  tail: end of the last claimed record       producers (release / CAS)
 *      72     8  clean position: the single producer may    single producer (release)
 *                overwrite ring bytes up to here, never
 *                beyond (single-producer kinds)
 *  ---- cache line 3 (192): wake-ups for consumers
 *     192     4  data signal (futex word)                   producers bump it when consumers wait
 *     196     4  consumers waiting                          consumers (atomic add)
 *  ---- cache line 4 (256): wake-ups for producers
 *     256     4  space signal (futex word)                  consumers bump it when producers wait
 *     260     4  producers waiting                          producers (atomic add)
 *  ---- 320: end of header
 *   slots  producer slots, then consumer slots, 64 bytes each ({@link SlotDescriptor})
 *    data  the ring: capacity bytes of records ({@link RecordDescriptor})
 * </pre>
 *
 * <p>Line 2 (128) is padding: it keeps the producers' line away from the consumers' wake-up line
 * even where the hardware prefetches cache lines in pairs. Consumer positions live in their slots,
 * one cache line each, so the words producers write, the words each consumer writes and the
 * wake-up words never share a cache line.
 */
public final class ChannelDescriptor {
    private ChannelDescriptor() {
    }

    /** "SHMKCHAN" in little-endian ASCII. */
    public static final long MAGIC = 0x4E4148434B4D4853L;
    public static final int VERSION = 1;

    public static final int KIND_ONE_TO_ONE = 1;
    public static final int KIND_MANY_TO_ONE = 2;
    public static final int KIND_PUBLISH_SUBSCRIBE = 3;

    public static final int CACHE_LINE = 64;

    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long KIND_OFFSET = 12;
    public static final long CAPACITY_OFFSET = 16;
    public static final long MAX_MESSAGE_LENGTH_OFFSET = 24;
    public static final long PRODUCER_SLOTS_OFFSET = 28;
    public static final long CONSUMER_SLOTS_OFFSET = 32;
    public static final long RESERVED_OFFSET = 36;
    public static final long DATA_OFFSET_OFFSET = 40;
    public static final long SLOTS_OFFSET_OFFSET = 48;
    public static final long CREATED_MILLIS_OFFSET = 56;
    public static final long TAIL_OFFSET = 64;
    public static final long CLEAN_POSITION_OFFSET = 72;
    public static final long DATA_SIGNAL_OFFSET = 192;
    public static final long CONSUMERS_WAITING_OFFSET = 196;
    public static final long SPACE_SIGNAL_OFFSET = 256;
    public static final long PRODUCERS_WAITING_OFFSET = 260;
    public static final long HEADER_LENGTH = 320;

    /** Smallest ring: a page. */
    public static final long MIN_CAPACITY = 4096;
    /** Largest ring: 1 GiB, so that record lengths and indexes fit in an int. */
    public static final long MAX_CAPACITY = 1L << 30;
    public static final int MAX_SLOTS = 4096;
    /**
     * Largest tail an opener accepts: positions only grow, and the arithmetic on them (a position
     * plus the capacity, plus a record) must not overflow. 2^62 bytes is more than a century of
     * messages at 1 GB/s.
     */
    public static final long MAX_POSITION = 1L << 62;

    /** Where the slots start: right after the header. */
    public static long slotsOffset() {
        return HEADER_LENGTH;
    }

    /** Where the ring starts for this many slots: the next page boundary after them. */
    public static long dataOffset(int producerSlots, int consumerSlots, long pageSize) {
        long end = HEADER_LENGTH + (long) (producerSlots + consumerSlots) * SlotDescriptor.SLOT_LENGTH;
        return (end + pageSize - 1) / pageSize * pageSize;
    }

    /** Total segment size for a ring of {@code capacity} bytes. */
    public static long segmentSize(long capacity, int producerSlots, int consumerSlots, long pageSize) {
        return dataOffset(producerSlots, consumerSlots, pageSize) + capacity;
    }

    /** The name of a kind, for messages. */
    public static String kindName(int kind) {
        return switch (kind) {
            case KIND_ONE_TO_ONE -> "one-to-one";
            case KIND_MANY_TO_ONE -> "many-to-one";
            case KIND_PUBLISH_SUBSCRIBE -> "publish-subscribe";
            default -> "unknown kind " + kind;
        };
    }

    /** The largest message a ring of {@code capacity} bytes accepts: an eighth of it, less a record header. */
    public static int maxMessageLengthFor(long capacity) {
        return (int) (capacity / 8 - RecordDescriptor.HEADER_LENGTH);
    }

    /**
     * Checks a channel header as an opener finds it, before anything else is read. Every value
     * that positions depend on is validated, so that a corrupted or foreign segment gives a clear
     * exception, never an access outside the segment or an endless loop.
     *
     * @param name the segment's name, for messages
     * @param header the segment, from offset 0
     * @param pageSize the OS page size
     * @throws SegmentFormatException naming what is wrong
     */
    public static void checkHeader(String name, MemorySegment header, long pageSize) throws SegmentFormatException {
        long size = header.byteSize();
        if (size < HEADER_LENGTH) {
            throw new SegmentFormatException(name, "segment \"" + name + "\" is not a channel: it is " + size
                    + " bytes, smaller than a channel header (" + HEADER_LENGTH + ")");
        }
        long magic = header.get(ValueLayout.JAVA_LONG, MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new SegmentFormatException(name, "segment \"" + name + "\" is not a channel: magic at offset 0 is 0x"
                    + Long.toHexString(magic) + ", expected 0x" + Long.toHexString(MAGIC) + " (\"SHMKCHAN\")"
                    + (magic == 0 ? "; it is empty, or its creator has not finished" : ""));
        }
        int version = header.get(ValueLayout.JAVA_INT, VERSION_OFFSET);
        if (version != VERSION) {
            throw new SegmentFormatException(name, "channel \"" + name + "\" has layout version " + version
                    + "; this shmkit reads version " + VERSION);
        }
        int kind = header.get(ValueLayout.JAVA_INT, KIND_OFFSET);
        if (kind < KIND_ONE_TO_ONE || kind > KIND_PUBLISH_SUBSCRIBE) {
            throw corrupted(name, KIND_OFFSET, "kind", kind);
        }
        long capacity = header.get(ValueLayout.JAVA_LONG, CAPACITY_OFFSET);
        if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1) {
            throw corrupted(name, CAPACITY_OFFSET, "capacity (a power of two from 4096 to 2^30)", capacity);
        }
        int maxLength = header.get(ValueLayout.JAVA_INT, MAX_MESSAGE_LENGTH_OFFSET);
        if (maxLength < 0 || maxLength > maxMessageLengthFor(capacity)) {
            throw corrupted(name, MAX_MESSAGE_LENGTH_OFFSET, "max message length", maxLength);
        }
        int producers = header.get(ValueLayout.JAVA_INT, PRODUCER_SLOTS_OFFSET);
        int consumers = header.get(ValueLayout.JAVA_INT, CONSUMER_SLOTS_OFFSET);
        if (producers < 1 || producers > MAX_SLOTS) {
            throw corrupted(name, PRODUCER_SLOTS_OFFSET, "producer slots", producers);
        }
        if (consumers < 1 || consumers > MAX_SLOTS) {
            throw corrupted(name, CONSUMER_SLOTS_OFFSET, "consumer slots", consumers);
        }
        if (kind != KIND_MANY_TO_ONE && producers != 1 || kind != KIND_PUBLISH_SUBSCRIBE && consumers != 1) {
            throw new SegmentFormatException(name, "channel \"" + name + "\" is corrupted: a "
                    + kindName(kind) + " channel cannot have " + producers + " producer and " + consumers
                    + " consumer slots");
        }
        long slots = header.get(ValueLayout.JAVA_LONG, SLOTS_OFFSET_OFFSET);
        if (slots != slotsOffset()) {
            throw corrupted(name, SLOTS_OFFSET_OFFSET, "slots offset", slots);
        }
        long data = header.get(ValueLayout.JAVA_LONG, DATA_OFFSET_OFFSET);
        if (data != dataOffset(producers, consumers, pageSize)) {
            throw corrupted(name, DATA_OFFSET_OFFSET, "data offset", data);
        }
        if (size < data + capacity) {
            throw new SegmentFormatException(name, "channel \"" + name + "\" is truncated: it is " + size
                    + " bytes, its header needs " + (data + capacity));
        }
    }

    /** A clear exception for an impossible value in the header. */
    public static SegmentFormatException corrupted(String name, long offset, String field, long value) {
        return new SegmentFormatException(name, "channel \"" + name + "\" is corrupted: " + field + " at offset "
                + offset + " is " + value);
    }
}
