/* Prints the channel layout constants of native/include/shmkit/channel.h under the names of the
 * Java descriptors (io.shmkit.internal.layout), for ChannelInteropTest to compare. */
#include <shmkit/channel.h>

#define SHOW(java, c) printf("%s %lld\n", java, (long long) (c))

int main(void)
{
    SHOW("ChannelDescriptor.MAGIC", SHMKIT_CHANNEL_MAGIC);
    SHOW("ChannelDescriptor.VERSION", SHMKIT_CHANNEL_VERSION);
    SHOW("ChannelDescriptor.KIND_ONE_TO_ONE", SHMKIT_KIND_ONE_TO_ONE);
    SHOW("ChannelDescriptor.KIND_MANY_TO_ONE", SHMKIT_KIND_MANY_TO_ONE);
    SHOW("ChannelDescriptor.KIND_PUBLISH_SUBSCRIBE", SHMKIT_KIND_PUBLISH_SUBSCRIBE);
    SHOW("ChannelDescriptor.CACHE_LINE", SHMKIT_CACHE_LINE);
    SHOW("ChannelDescriptor.MAGIC_OFFSET", offsetof(struct shmkit_channel_header, magic));
    SHOW("ChannelDescriptor.VERSION_OFFSET", offsetof(struct shmkit_channel_header, version));
    SHOW("ChannelDescriptor.KIND_OFFSET", offsetof(struct shmkit_channel_header, kind));
    SHOW("ChannelDescriptor.CAPACITY_OFFSET", offsetof(struct shmkit_channel_header, capacity));
    SHOW("ChannelDescriptor.MAX_MESSAGE_LENGTH_OFFSET", offsetof(struct shmkit_channel_header, max_message_length));
    SHOW("ChannelDescriptor.PRODUCER_SLOTS_OFFSET", offsetof(struct shmkit_channel_header, producer_slots));
    SHOW("ChannelDescriptor.CONSUMER_SLOTS_OFFSET", offsetof(struct shmkit_channel_header, consumer_slots));
    SHOW("ChannelDescriptor.RESERVED_OFFSET", offsetof(struct shmkit_channel_header, reserved));
    SHOW("ChannelDescriptor.DATA_OFFSET_OFFSET", offsetof(struct shmkit_channel_header, data_offset));
    SHOW("ChannelDescriptor.SLOTS_OFFSET_OFFSET", offsetof(struct shmkit_channel_header, slots_offset));
    SHOW("ChannelDescriptor.CREATED_MILLIS_OFFSET", offsetof(struct shmkit_channel_header, created_millis));
    SHOW("ChannelDescriptor.TAIL_OFFSET", offsetof(struct shmkit_channel_header, tail));
    SHOW("ChannelDescriptor.CLEAN_POSITION_OFFSET", offsetof(struct shmkit_channel_header, clean_position));
    SHOW("ChannelDescriptor.DATA_SIGNAL_OFFSET", offsetof(struct shmkit_channel_header, data_signal));
    SHOW("ChannelDescriptor.CONSUMERS_WAITING_OFFSET", offsetof(struct shmkit_channel_header, consumers_waiting));
    SHOW("ChannelDescriptor.SPACE_SIGNAL_OFFSET", offsetof(struct shmkit_channel_header, space_signal));
    SHOW("ChannelDescriptor.PRODUCERS_WAITING_OFFSET", offsetof(struct shmkit_channel_header, producers_waiting));
    SHOW("ChannelDescriptor.HEADER_LENGTH", sizeof(struct shmkit_channel_header));
    SHOW("ChannelDescriptor.MIN_CAPACITY", SHMKIT_MIN_CAPACITY);
    SHOW("ChannelDescriptor.MAX_CAPACITY", SHMKIT_MAX_CAPACITY);
    SHOW("ChannelDescriptor.MAX_SLOTS", SHMKIT_MAX_SLOTS);
    SHOW("ChannelDescriptor.MAX_POSITION", SHMKIT_MAX_POSITION);
    SHOW("SlotDescriptor.SLOT_LENGTH", sizeof(struct shmkit_channel_slot));
    SHOW("SlotDescriptor.OWNER_OFFSET", offsetof(struct shmkit_channel_slot, owner));
    SHOW("SlotDescriptor.START_TIME_OFFSET", offsetof(struct shmkit_channel_slot, start_time));
    SHOW("SlotDescriptor.HEARTBEAT_OFFSET", offsetof(struct shmkit_channel_slot, heartbeat));
    SHOW("SlotDescriptor.POSITION_OFFSET", offsetof(struct shmkit_channel_slot, position));
    SHOW("SlotDescriptor.MESSAGES_OFFSET", offsetof(struct shmkit_channel_slot, messages));
    SHOW("SlotDescriptor.CLAIM_LENGTH_OFFSET", offsetof(struct shmkit_channel_slot, claim_length));
    SHOW("SlotDescriptor.RESERVED_OFFSET", offsetof(struct shmkit_channel_slot, reserved));
    SHOW("SlotDescriptor.RETIRING_OFFSET", SHMKIT_SLOT_RETIRING_OFFSET);
    SHOW("SlotDescriptor.NAME_OFFSET", offsetof(struct shmkit_channel_slot, name));
    SHOW("SlotDescriptor.NAME_LENGTH", sizeof(((struct shmkit_channel_slot *) 0)->name));
    SHOW("SlotDescriptor.FREE", SHMKIT_SLOT_FREE);
    SHOW("SlotDescriptor.CLAIMING", SHMKIT_SLOT_CLAIMING);
    SHOW("SlotDescriptor.ACTIVE", SHMKIT_SLOT_ACTIVE);
    SHOW("SlotDescriptor.CLOSED", SHMKIT_SLOT_CLOSED);
    SHOW("SlotDescriptor.DEAD", SHMKIT_SLOT_DEAD);
    SHOW("RecordDescriptor.HEADER_LENGTH", SHMKIT_RECORD_HEADER_LENGTH);
    SHOW("RecordDescriptor.ALIGNMENT", SHMKIT_RECORD_ALIGNMENT);
    SHOW("RecordDescriptor.PADDING_TYPE", SHMKIT_PADDING_TYPE);
    return 0;
}
