package io.shmkit.internal.layout;

/**
 * One participant slot of a channel: 64 bytes, a cache line of its own. Producer slots come first,
 * then consumer slots.
 *
 * <pre>
 *  offset  size  field
 *  ------  ----  -------------------------------------------------------------------------
 *       0     8  owner: low 32 bits state, high 32 bits pid (changed by CAS only)
 *       8     8  owner's process start time (Linux: clock ticks since boot, from /proc/PID/stat);
 *                pid and start time together name a process even when pids are reused
 *      16     8  heartbeat: ms since the epoch, refreshed while the owner runs
 *      24     8  position: consumers, the next position to read (the consumer's commit point);
 *                many-to-one producers, the position of the claim in progress
 *      32     8  messages: consumed or produced by this slot, ever
 *      40     4  claim length: many-to-one producers, the bytes of the claim in progress
 *      44     4  reserved (0)
 *      40     8  retiring (the same bytes, in the many-to-one consumer's slot): the record being
 *                zeroed, low 32 bits its length, high 32 bits the low 32 bits of its position
 *      48    16  name: subscribers, UTF-8, NUL padded (a restarting subscriber finds its slot by it)
 * </pre>
 *
 * <p>States: {@link #FREE} never used; {@link #CLAIMING} being taken (the pid is already the new
 * owner's); {@link #ACTIVE} in use; {@link #CLOSED} left cleanly (a consumer's position is kept);
 * {@link #DEAD} its owner died and it no longer holds the producer back.
 */
public final class SlotDescriptor {
    private SlotDescriptor() {
    }

    public static final int SLOT_LENGTH = 64;

    public static final long OWNER_OFFSET = 0;
    public static final long START_TIME_OFFSET = 8;
    public static final long HEARTBEAT_OFFSET = 16;
    public static final long POSITION_OFFSET = 24;
    public static final long MESSAGES_OFFSET = 32;
    public static final long CLAIM_LENGTH_OFFSET = 40;
    public static final long RESERVED_OFFSET = 44;
    public static final long RETIRING_OFFSET = 40;
    public static final long NAME_OFFSET = 48;
    public static final int NAME_LENGTH = 16;

    public static final int FREE = 0;
    public static final int CLAIMING = 1;
    public static final int ACTIVE = 2;
    public static final int CLOSED = 3;
    public static final int DEAD = 4;

    /** The owner word for a state and pid. */
    public static long owner(int state, int pid) {
        return ((long) pid << 32) | (state & 0xffffffffL);
    }

    public static int state(long owner) {
        return (int) owner;
    }

    public static int pid(long owner) {
        return (int) (owner >>> 32);
    }

    /** The retiring word for the record of {@code length} bytes at {@code position}. */
    public static long retiring(long position, long length) {
        return position << 32 | length;
    }

    /** Whether a retiring word names the record at {@code position}, and not one before it. */
    public static boolean retiringAt(long retiring, long position) {
        return (int) (retiring >>> 32) == (int) position;
    }

    /** The offset of slot {@code index} (producers first) in the segment. */
    public static long slotOffset(int index) {
        return ChannelDescriptor.slotsOffset() + (long) index * SLOT_LENGTH;
    }

    /** A state's name, for {@code shm stat}. */
    public static String stateName(int state) {
        return switch (state) {
            case FREE -> "free";
            case CLAIMING -> "joining";
            case ACTIVE -> "active";
            case CLOSED -> "closed";
            case DEAD -> "dead";
            default -> "corrupted(" + state + ")";
        };
    }
}
