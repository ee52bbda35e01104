package io.shmkit.cli;

import io.shmkit.SegmentInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;

/**
 * The first bytes of a segment, read to tell whether it is a channel, for {@code shm info}.
 *
 * <p>They are read from the segment's file, not through the library: opening the segment would
 * count as a holder, and would reclaim a stale segment that {@code info} is there to report. The
 * offsets are those of the channel layout, version 1 ({@code ChannelDescriptor}): magic
 * {@code "SHMKCHAN"} at 0, version at 8, kind at 12, ring capacity at 16, little-endian.
 *
 * @param version the layout version
 * @param kind the kind's name, e.g. {@code many-to-one}; null when the version is not one this reads
 * @param capacity the ring's capacity in bytes; 0 when the version is not one this reads
 */
record ChannelHeader(int version, String kind, long capacity) {

    private static final long MAGIC = 0x4E4148434B4D4853L;
    private static final int LENGTH = 24;

    /**
     * Reads a segment's first bytes.
     *
     * @param info the segment
     * @return its channel header, or empty when it is not a channel, or cannot be read
     */
    static Optional<ChannelHeader> peek(SegmentInfo info) {
        if (info.size() < LENGTH) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel file = FileChannel.open(Path.of(info.path()), StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS)) {
            while (b.hasRemaining() && file.read(b) > 0) {
                // read all 24 bytes
            }
        } catch (IOException | UnsupportedOperationException unreadable) {
            // Not ours to read (permissions), or not a file on this OS: say nothing rather than guess.
            return Optional.empty();
        }
        if (b.hasRemaining() || b.getLong(0) != MAGIC) {
            return Optional.empty();
        }
        int version = b.getInt(8);
        if (version != 1) {
            return Optional.of(new ChannelHeader(version, null, 0));
        }
        String kind = switch (b.getInt(12)) {
            case 1 -> "one-to-one";
            case 2 -> "many-to-one";
            case 3 -> "publish-subscribe";
            default -> null;
        };
        return Optional.of(new ChannelHeader(version, kind, kind == null ? 0 : b.getLong(16)));
    }

    /** @return e.g. {@code many-to-one, 1 MiB ring} */
    String describe() {
        if (kind == null) {
            return "a shmkit channel of layout version " + version + ", which this shm does not read";
        }
        return kind + ", " + ByteSizes.human(capacity) + " ring";
    }

    /** @return the header as a JSON object */
    Map<String, Object> json() {
        Map<String, Object> o = Json.object();
        o.put("version", version);
        o.put("kind", kind);
        o.put("capacity", kind == null ? null : capacity);
        return o;
    }
}
