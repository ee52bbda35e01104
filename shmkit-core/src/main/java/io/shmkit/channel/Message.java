package io.shmkit.channel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A message being delivered to a {@link MessageHandler}: valid only during the call, and reused by
 * the consumer for the next message, so that delivering messages allocates nothing.
 *
 * <p>The payload is read in place (zero copy): {@link #buffer()} is the channel's ring and the
 * payload is {@link #length()} bytes at {@link #offset()}. {@link #segment()} gives the same bytes as
 * a slice of their own.
 */
public final class Message {
    private final MemorySegment buffer;
    private int typeId;
    private long offset;
    private int length;

    Message(MemorySegment buffer) {
        this.buffer = buffer;
    }

    void wrap(int typeId, long offset, int length) {
        this.typeId = typeId;
        this.offset = offset;
        this.length = length;
    }

    /** @return the type id the producer gave, 0 or more */
    public int typeId() {
        return typeId;
    }

    /** @return the channel's ring, read-only, in which the payload lies */
    public MemorySegment buffer() {
        return buffer;
    }

    /** @return where the payload starts in {@link #buffer()} */
    public long offset() {
        return offset;
    }

    /** @return the payload's length in bytes */
    public int length() {
        return length;
    }

    /** @return the payload as a read-only segment of its own (a slice of the ring) */
    public MemorySegment segment() {
        return buffer.asSlice(offset, length);
    }

    /** @return a copy of the payload */
    public byte[] bytes() {
        byte[] b = new byte[length];
        MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, offset, b, 0, length);
        return b;
    }

    /** @return the payload decoded as UTF-8 */
    public String text() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "Message[type " + typeId + ", " + length + " bytes]";
    }
}
