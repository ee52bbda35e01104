package io.shmkit.cli;

import io.shmkit.SegmentFormatException;
import io.shmkit.SeqLock;
import io.shmkit.ShmException;
import io.shmkit.View;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where {@code shm writer} puts the current message and {@code shm reader} finds it: the only
 * place that knows the layout.
 *
 * <p>The segment holds a {@link SeqLock} at offset 0, so a reader only ever gets whole messages,
 * never the start of a new one with the rest of the old. The message itself sits in the seqlock's
 * payload, at offset {@value #OFFSET} of the segment, as UTF-8 followed by a NUL: a C tutorial
 * reader doing {@code printf("%s", buf + 128)} still prints it (but may catch a half-written one;
 * a correct C reader follows the seqlock protocol of docs/sync.md).
 */
final class MessageSlot {

    /** Where the message's bytes start in the segment: after the seqlock's header. */
    static final long OFFSET = SeqLock.HEADER_SIZE;

    /** The smallest segment that holds a message of one byte. */
    static final long MIN_SEGMENT_SIZE = SeqLock.HEADER_SIZE + 2;

    private MessageSlot() {
    }

    /**
     * One message as published.
     *
     * @param version the seqlock's version: each publish has a higher one, 0 before the first
     * @param text the message
     */
    record Message(long version, String text) {
    }

    /**
     * Makes a new, empty message slot in a segment the writer just created.
     *
     * @param view a read-write view of the whole segment
     * @return the slot's seqlock
     * @throws IllegalArgumentException when the segment is too small for a message
     */
    static SeqLock create(View view) throws SegmentFormatException {
        long capacity = Math.min(view.length() - SeqLock.HEADER_SIZE, Integer.MAX_VALUE - 1024);
        if (capacity < 2) {
            throw new IllegalArgumentException("segment \"" + view.segment().name() + "\" of " + view.length()
                    + " bytes is too small for messages: give at least " + MIN_SEGMENT_SIZE + " bytes");
        }
        return SeqLock.initialize(view, 0, (int) capacity);
    }

    /**
     * The message slot of a segment that a writer made.
     *
     * @param view a view of the whole segment (read-only will do)
     * @return the slot's seqlock, or null when the segment is still all zeros at its start (made by
     *         {@code shm create}, say): no message was published there yet
     * @throws SegmentFormatException when the segment holds something else, naming what was found
     */
    static SeqLock attach(View view) throws ShmException {
        if (view.length() >= 4 && view.memory().get(ValueLayout.JAVA_INT_UNALIGNED, 0) == 0) {
            return null;
        }
        try {
            return SeqLock.attach(view, 0);
        } catch (SegmentFormatException e) {
            throw new SegmentFormatException(view.segment().name(), 0, "no messages of `shm writer` here: "
                    + e.getMessage());
        }
    }

    /**
     * The longest message that fits.
     *
     * @param slot the slot
     * @return the most UTF-8 bytes a message may have, its NUL not counted
     */
    static long capacity(SeqLock slot) {
        return slot.capacity() - 1L;
    }

    /**
     * Makes {@code message} the current message, whole, in one seqlock write.
     *
     * @param slot the slot
     * @param message the message
     * @return the new version
     * @throws IllegalArgumentException when it does not fit, naming the segment and the sizes
     */
    static long publish(SeqLock slot, String message) {
        byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > capacity(slot)) {
            throw new IllegalArgumentException("the message is " + utf8.length + " bytes of UTF-8; segment \""
                    + slot.segmentName() + "\" holds messages of at most " + capacity(slot) + " bytes");
        }
        // The NUL lets C read the payload as a string.
        return slot.write(Arrays.copyOf(utf8, utf8.length + 1));
    }

    /**
     * The current message, whole.
     *
     * @param slot the slot, or null for a segment where nothing was published yet
     * @return the message and its version; empty text before the first publish
     * @throws ShmException when the writer died in the middle of a write (nothing whole to read)
     */
    static Message read(SeqLock slot) throws ShmException {
        if (slot == null) {
            return new Message(0, "");
        }
        SeqLock.Snapshot s = slot.snapshot();
        byte[] bytes = s.value();
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new Message(s.version(), new String(bytes, 0, end, StandardCharsets.UTF_8));
    }
}
