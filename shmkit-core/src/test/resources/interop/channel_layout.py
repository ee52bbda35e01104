"""Prints the channel layout constants of native/python/shmkit_channel.py under the names of the
Java descriptors (io.shmkit.internal.layout), for ChannelInteropTest to compare.

  channel_layout.py DIRECTORY_OF_SHMKIT_CHANNEL
"""
import sys

sys.dont_write_bytecode = True  # leave nothing behind in the repository
sys.path.insert(0, sys.argv[1])
import shmkit_channel as m  # noqa: E402

SAME_NAME = ["MAGIC", "VERSION", "KIND_ONE_TO_ONE", "KIND_MANY_TO_ONE", "KIND_PUBLISH_SUBSCRIBE", "CACHE_LINE",
             "MAGIC_OFFSET", "VERSION_OFFSET", "KIND_OFFSET", "CAPACITY_OFFSET", "MAX_MESSAGE_LENGTH_OFFSET",
             "PRODUCER_SLOTS_OFFSET", "CONSUMER_SLOTS_OFFSET", "RESERVED_OFFSET", "DATA_OFFSET_OFFSET",
             "SLOTS_OFFSET_OFFSET", "CREATED_MILLIS_OFFSET", "TAIL_OFFSET", "CLEAN_POSITION_OFFSET",
             "DATA_SIGNAL_OFFSET", "CONSUMERS_WAITING_OFFSET", "SPACE_SIGNAL_OFFSET", "PRODUCERS_WAITING_OFFSET",
             "HEADER_LENGTH", "MIN_CAPACITY", "MAX_CAPACITY", "MAX_SLOTS", "MAX_POSITION"]
for name in SAME_NAME:
    print("ChannelDescriptor.%s %d" % (name, getattr(m, name)))
print("SlotDescriptor.SLOT_LENGTH %d" % m.SLOT_LENGTH)
for name in ["OWNER_OFFSET", "START_TIME_OFFSET", "HEARTBEAT_OFFSET", "POSITION_OFFSET", "MESSAGES_OFFSET",
             "CLAIM_LENGTH_OFFSET", "RESERVED_OFFSET", "RETIRING_OFFSET", "NAME_OFFSET",
             "NAME_LENGTH"]:
    print("SlotDescriptor.%s %d" % (name, getattr(m, "SLOT_" + name)))
for name in ["FREE", "CLAIMING", "ACTIVE", "CLOSED", "DEAD"]:
    print("SlotDescriptor.%s %d" % (name, getattr(m, name)))
print("RecordDescriptor.HEADER_LENGTH %d" % m.RECORD_HEADER_LENGTH)
print("RecordDescriptor.ALIGNMENT %d" % m.RECORD_ALIGNMENT)
print("RecordDescriptor.PADDING_TYPE %d" % m.PADDING_TYPE)
