package io.shmkit.internal.layout;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The offsets of the channel descriptors, tied to struct layouts with named fields, so that a
 * constant cannot drift from the layout that docs/channels.md, the C header and the Python module
 * describe: structLayout computes every offset from the fields before it and refuses a field that
 * is not naturally aligned.
 */
class DescriptorLayoutTest {

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The channel header: the creator's fields, then one cache line for each group of writers. */
    static final StructLayout HEADER = MemoryLayout.structLayout(
            LONG.withName("magic"),
            INT.withName("version"),
            INT.withName("kind"),
            LONG.withName("capacity"),
            INT.withName("maxMessageLength"),
            INT.withName("producerSlots"),
            INT.withName("consumerSlots"),
            INT.withName("reserved"),
            LONG.withName("dataOffset"),
            LONG.withName("slotsOffset"),
            LONG.withName("createdMillis"),
            // cache line 1: the producers'
            LONG.withName("tail"),
            LONG.withName("cleanPosition"),
            MemoryLayout.paddingLayout(48),
            // cache line 2: kept empty, against adjacent-line prefetching
            MemoryLayout.paddingLayout(64),
            // cache line 3: waking consumers
            INT.withName("dataSignal"),
            INT.withName("consumersWaiting"),
            MemoryLayout.paddingLayout(56),
            // cache line 4: waking producers
            INT.withName("spaceSignal"),
            INT.withName("producersWaiting"),
            MemoryLayout.paddingLayout(56));

    static final StructLayout SLOT = MemoryLayout.structLayout(
            LONG.withName("owner"),
            LONG.withName("startTime"),
            LONG.withName("heartbeat"),
            LONG.withName("position"),
            LONG.withName("messages"),
            INT.withName("claimLength"),
            INT.withName("reserved"),
            MemoryLayout.sequenceLayout(16, ValueLayout.JAVA_BYTE).withName("name"));

    /** The owner word as it lies in memory: state in the low half, pid in the high half. */
    static final StructLayout OWNER = MemoryLayout.structLayout(INT.withName("state"), INT.withName("pid"));

    /** A record header, then (not part of the struct) the payload. */
    static final StructLayout RECORD_HEADER = MemoryLayout.structLayout(INT.withName("length"), INT.withName("type"));

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(PathElement.groupElement(field));
    }

    @Test
    void headerFieldsAreWhereTheConstantsSay() {
        Map<String, Long> expected = Map.ofEntries(
                Map.entry("magic", ChannelDescriptor.MAGIC_OFFSET),
                Map.entry("version", ChannelDescriptor.VERSION_OFFSET),
                Map.entry("kind", ChannelDescriptor.KIND_OFFSET),
                Map.entry("capacity", ChannelDescriptor.CAPACITY_OFFSET),
                Map.entry("maxMessageLength", ChannelDescriptor.MAX_MESSAGE_LENGTH_OFFSET),
                Map.entry("producerSlots", ChannelDescriptor.PRODUCER_SLOTS_OFFSET),
                Map.entry("consumerSlots", ChannelDescriptor.CONSUMER_SLOTS_OFFSET),
                Map.entry("reserved", ChannelDescriptor.RESERVED_OFFSET),
                Map.entry("dataOffset", ChannelDescriptor.DATA_OFFSET_OFFSET),
                Map.entry("slotsOffset", ChannelDescriptor.SLOTS_OFFSET_OFFSET),
                Map.entry("createdMillis", ChannelDescriptor.CREATED_MILLIS_OFFSET),
                Map.entry("tail", ChannelDescriptor.TAIL_OFFSET),
                Map.entry("cleanPosition", ChannelDescriptor.CLEAN_POSITION_OFFSET),
                Map.entry("dataSignal", ChannelDescriptor.DATA_SIGNAL_OFFSET),
                Map.entry("consumersWaiting", ChannelDescriptor.CONSUMERS_WAITING_OFFSET),
                Map.entry("spaceSignal", ChannelDescriptor.SPACE_SIGNAL_OFFSET),
                Map.entry("producersWaiting", ChannelDescriptor.PRODUCERS_WAITING_OFFSET));
        expected.forEach((field, constant) -> assertEquals(constant, offset(HEADER, field), field));
        assertEquals(expected.size(), HEADER.memberLayouts().stream().filter(l -> l.name().isPresent()).count(),
                "every named field has its constant");
        assertEquals(ChannelDescriptor.HEADER_LENGTH, HEADER.byteSize());
        assertEquals(ChannelDescriptor.HEADER_LENGTH, ChannelDescriptor.slotsOffset());
    }

    @Test
    void eachGroupOfWritersHasCacheLinesOfItsOwn() {
        int line = ChannelDescriptor.CACHE_LINE;
        assertEquals(1, offset(HEADER, "tail") / line);
        assertEquals(1, offset(HEADER, "cleanPosition") / line);
        assertEquals(3, offset(HEADER, "dataSignal") / line);
        assertEquals(3, offset(HEADER, "consumersWaiting") / line);
        assertEquals(4, offset(HEADER, "spaceSignal") / line);
        assertEquals(4, offset(HEADER, "producersWaiting") / line);
        assertEquals(0, HEADER.byteSize() % line, "slots start on a line");
        assertEquals(line, SLOT.byteSize(), "a slot is one line");
    }

    @Test
    void slotFieldsAreWhereTheConstantsSay() {
        Map<String, Long> expected = Map.of(
                "owner", SlotDescriptor.OWNER_OFFSET,
                "startTime", SlotDescriptor.START_TIME_OFFSET,
                "heartbeat", SlotDescriptor.HEARTBEAT_OFFSET,
                "position", SlotDescriptor.POSITION_OFFSET,
                "messages", SlotDescriptor.MESSAGES_OFFSET,
                "claimLength", SlotDescriptor.CLAIM_LENGTH_OFFSET,
                "reserved", SlotDescriptor.RESERVED_OFFSET,
                "name", SlotDescriptor.NAME_OFFSET);
        expected.forEach((field, constant) -> assertEquals(constant, offset(SLOT, field), field));
        assertEquals(expected.size(), SLOT.memberLayouts().size());
        assertEquals(SlotDescriptor.SLOT_LENGTH, SLOT.byteSize());
        assertEquals(offset(SLOT, "claimLength"), SlotDescriptor.RETIRING_OFFSET,
                "a consumer's retiring word is the claim length and reserved int of a producer's slot");
        SequenceLayout name = (SequenceLayout) SLOT.select(PathElement.groupElement("name"));
        assertEquals(SlotDescriptor.NAME_LENGTH, name.elementCount());
        assertEquals(ChannelDescriptor.HEADER_LENGTH + 3L * SlotDescriptor.SLOT_LENGTH, SlotDescriptor.slotOffset(3));
    }

    @Test
    void theOwnerWordHoldsTheStateInItsFirstFourBytesAndThePidInTheNext() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment word = arena.allocate(OWNER);
            word.set(LONG, 0, SlotDescriptor.owner(SlotDescriptor.CLOSED, 123456));
            assertEquals(SlotDescriptor.CLOSED, word.get(INT, offset(OWNER, "state")));
            assertEquals(123456, word.get(INT, offset(OWNER, "pid")));
        }
    }

    @Test
    void recordHeadersAreLengthThenType() {
        assertEquals(RecordDescriptor.HEADER_LENGTH, RECORD_HEADER.byteSize());
        assertEquals(RecordDescriptor.ALIGNMENT, LONG.byteAlignment(), "records start where a header word can");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment h = arena.allocate(RECORD_HEADER);
            h.set(LONG, 0, RecordDescriptor.header(RecordDescriptor.recordLength(13), 7));
            assertEquals(21, h.get(INT, offset(RECORD_HEADER, "length")));
            assertEquals(7, h.get(INT, offset(RECORD_HEADER, "type")));
            h.set(LONG, 0, RecordDescriptor.header(4096, RecordDescriptor.PADDING_TYPE));
            assertEquals(-1, h.get(INT, offset(RECORD_HEADER, "type")));
            h.set(LONG, 0, RecordDescriptor.inProgressHeader(21, 5));
            assertEquals(-21, h.get(INT, offset(RECORD_HEADER, "length")), "in progress: minus the length");
            assertEquals(5, h.get(INT, offset(RECORD_HEADER, "type")), "in progress: the producer's slot");
        }
        assertEquals(24, RecordDescriptor.aligned(21));
    }

    @Test
    void theMagicIsSHMKCHANInMemoryOrder() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(8);
            m.set(LONG, 0, ChannelDescriptor.MAGIC);
            assertArrayEquals("SHMKCHAN".getBytes(StandardCharsets.US_ASCII), m.toArray(ValueLayout.JAVA_BYTE));
        }
    }
}
