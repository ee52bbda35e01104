package io.shmkit.internal.layout;

import io.shmkit.SegmentFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The 8 bytes every shmkit primitive starts with, whatever its kind:
 *
 * <pre>
 *  0       4       6       8
 *  +-------+-------+-------+
 *  | magic |version| flags |   little-endian, naturally aligned
 *  +-------+-------+-------+
 *   u32     u16     u16
 * </pre>
 *
 * <p>The magic is four ASCII characters ({@code SMTX} mutex, {@code SEVT} event, {@code SSEM}
 * semaphore, {@code SSEQ} seqlock), so {@code xxd /dev/shm/NAME} shows what a segment holds. A
 * creator writes every other field first and the magic <em>last</em>, with a release store; an
 * opener reads the magic with an acquire load, so a non-zero magic means the rest is there.
 * Magic 0 means "not initialised (yet)". The flags' meaning belongs to each kind; bits a kind
 * does not define must be 0.
 *
 * <p>Shared layouts are little-endian: shmkit supports x86-64 and AArch64, both little-endian.
 */
public final class HeaderDescriptor {

    private HeaderDescriptor() {
    }

    /** Offset of the u32 magic number. */
    public static final long MAGIC_OFFSET = 0;
    /** Offset of the u16 layout version. */
    public static final long VERSION_OFFSET = 4;
    /** Offset of the u16 flags. */
    public static final long FLAGS_OFFSET = 6;
    /** Size of the common header. */
    public static final long SIZE = 8;

    /** Magic of a {@link MutexDescriptor mutex}: "SMTX". */
    public static final int MUTEX_MAGIC = magic("SMTX");
    /** Magic of an {@link EventDescriptor event}: "SEVT". */
    public static final int EVENT_MAGIC = magic("SEVT");
    /** Magic of a {@link SemaphoreDescriptor semaphore}: "SSEM". */
    public static final int SEMAPHORE_MAGIC = magic("SSEM");
    /** Magic of a {@link SeqLockDescriptor seqlock}: "SSEQ". */
    public static final int SEQLOCK_MAGIC = magic("SSEQ");

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle().withInvokeExactBehavior();

    /** The magic whose little-endian bytes are these four ASCII characters. */
    public static int magic(String fourChars) {
        if (fourChars.length() != 4) {
            throw new IllegalArgumentException("a magic is 4 characters: " + fourChars);
        }
        int m = 0;
        for (int i = 3; i >= 0; i--) {
            m = (m << 8) | (fourChars.charAt(i) & 0xff);
        }
        return m;
    }

    /** The kind a magic announces ("mutex", ...), or null for none of shmkit's. */
    public static String kindOf(int magic) {
        if (magic == MUTEX_MAGIC) {
            return "mutex";
        } else if (magic == EVENT_MAGIC) {
            return "event";
        } else if (magic == SEMAPHORE_MAGIC) {
            return "semaphore";
        } else if (magic == SEQLOCK_MAGIC) {
            return "seqlock";
        }
        return null;
    }

    /** The name of a kind with its indefinite article, for messages: "a mutex", "an event". */
    public static String withArticle(String kind) {
        return (!kind.isEmpty() && "aeiou".indexOf(Character.toLowerCase(kind.charAt(0))) >= 0 ? "an " : "a ") + kind;
    }

    /** A magic for messages: its characters when printable ("SMTX"), its hex value otherwise. */
    public static String describeMagic(int magic) {
        StringBuilder b = new StringBuilder(4);
        for (int i = 0; i < 4; i++) {
            int c = (magic >>> (8 * i)) & 0xff;
            if (c < 0x20 || c > 0x7e) {
                return String.format("0x%08x", magic);
            }
            b.append((char) c);
        }
        String kind = kindOf(magic);
        return "\"" + b + "\"" + (kind != null ? " (a shmkit " + kind + ")" : "");
    }

    /** The magic as found, with an acquire load (pairs with {@link #publish}). */
    public static int magicAcquire(MemorySegment mem) {
        // SYNC POINT: acquire; pairs with the release store in publish(): seeing the magic means
        // seeing every field the creator wrote before it.
        return (int) INT.getAcquire(mem, MAGIC_OFFSET);
    }

    /** Writes version and flags, then the magic with a release store: the primitive is ready. */
    public static void publish(MemorySegment mem, int magic, int version, int flags) {
        mem.set(ValueLayout.JAVA_SHORT, VERSION_OFFSET, (short) version);
        mem.set(ValueLayout.JAVA_SHORT, FLAGS_OFFSET, (short) flags);
        // SYNC POINT: release; every field written before this store is visible to an opener that
        // reads this magic with magicAcquire().
        INT.setRelease(mem, MAGIC_OFFSET, magic);
    }

    /** The u16 version, unsigned. */
    public static int version(MemorySegment mem) {
        return Short.toUnsignedInt(mem.get(ValueLayout.JAVA_SHORT, VERSION_OFFSET));
    }

    /** The u16 flags, unsigned. */
    public static int flags(MemorySegment mem) {
        return Short.toUnsignedInt(mem.get(ValueLayout.JAVA_SHORT, FLAGS_OFFSET));
    }

    /**
     * Checks that a primitive of {@code size} bytes fits at {@code offset} of {@code memory} and
     * is aligned to {@code alignment} (by address, which is what atomic access needs).
     *
     * @param what the kind, for messages ("mutex")
     * @param segmentName the segment, for messages
     * @param segmentOffset where {@code memory} starts in the segment, for messages
     */
    public static void checkPlacement(MemorySegment memory, long offset, long size, long alignment, String what,
                                      String segmentName, long segmentOffset) throws SegmentFormatException {
        long at = segmentOffset + offset;
        if (offset < 0) {
            throw new SegmentFormatException(segmentName, at, withArticle(what) + " cannot start at a negative offset");
        }
        if (offset > memory.byteSize() || size > memory.byteSize() - offset) {
            throw new SegmentFormatException(segmentName, at, withArticle(what) + " needs " + size + " bytes, but only "
                    + Math.max(0, memory.byteSize() - offset) + " are mapped there (the segment or view is too small)");
        }
        long address = memory.address() + offset;
        if (address % alignment != 0) {
            throw new SegmentFormatException(segmentName, at, withArticle(what) + " must start at a multiple of "
                    + alignment + " bytes (its words are used atomically), but this offset is misaligned by "
                    + (address % alignment));
        }
    }

    /**
     * Checks the magic and version found in {@code mem} (which starts at the primitive).
     *
     * @throws SegmentFormatException naming what was found instead
     */
    public static void checkHeader(MemorySegment mem, int expectedMagic, int expectedVersion, String what,
                                   String segmentName, long at) throws SegmentFormatException {
        int magic = magicAcquire(mem);
        if (magic == 0) {
            throw new SegmentFormatException(segmentName, at, "no " + what + " here: the bytes are not initialised"
                    + " (magic 0); create it first, e.g. with " + initHint(what));
        }
        if (magic != expectedMagic) {
            throw new SegmentFormatException(segmentName, at, "not " + withArticle(what) + ": found magic "
                    + describeMagic(magic) + " where " + withArticle(what) + " has " + describeMagic(expectedMagic));
        }
        int version = version(mem);
        if (version != expectedVersion) {
            throw new SegmentFormatException(segmentName, at, withArticle(what) + " of layout version " + version
                    + ", but this shmkit reads version " + expectedVersion);
        }
    }

    private static String initHint(String what) {
        return switch (what) {
            case "mutex" -> "SharedMutex.initialize(view, offset)";
            case "event" -> "SharedEvent.initialize(view, offset, manualReset)";
            case "semaphore" -> "SharedSemaphore.initialize(view, offset, initial, max)";
            case "seqlock" -> "SeqLock.initialize(view, offset, capacity)";
            default -> "its initialize method";
        };
    }

    /** A format error found in the middle of an operation that declares no checked exception. */
    public static IllegalStateException corrupted(SegmentFormatException e) {
        return new IllegalStateException(e.getMessage(), e);
    }
}
