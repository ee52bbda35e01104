package io.shmkit.cli;

import io.shmkit.View;

import java.nio.charset.StandardCharsets;

/**
 * Where {@code shm writer} puts the current message and {@code shm reader} finds it: the only
 * place that knows the layout, so that it can become a seqlock-protected record without touching
 * the commands.
 *
 * <p>The layout is the one of the Win32 tutorials: the message as a NUL-terminated UTF-8 string at
 * offset 0, so a C reader doing {@code printf("%s", (char *) buf)} on the same segment prints it
 * too. Nothing makes an update atomic: a read racing a write can see the start of the new message
 * and the rest of the old one. {@link #read} therefore reads until two reads in a row agree, which
 * makes a torn message unlikely, though not impossible, until the layout gets a sequence word.
 */
final class MessageSlot {

    /** Where the message starts. */
    static final long OFFSET = 0;

    /** Bounds the re-reads when a writer keeps changing the message. */
    private static final int MAX_READS = 100;

    private MessageSlot() {
    }

    /**
     * The longest message that fits.
     *
     * @param view a view of the whole segment
     * @return the most UTF-8 bytes a message may have, its NUL not counted
     */
    static long capacity(View view) {
        return view.length() - OFFSET - 1;
    }

    /**
     * Makes {@code message} the current message.
     *
     * @param view a read-write view of the whole segment
     * @param message the message
     * @throws IllegalArgumentException when it does not fit, naming the segment and the sizes
     */
    static void publish(View view, String message) {
        int bytes = message.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > capacity(view)) {
            throw new IllegalArgumentException("the message is " + bytes + " bytes of UTF-8; segment \""
                    + view.segment().name() + "\" holds messages of at most " + capacity(view) + " bytes");
        }
        view.putString(OFFSET, message);
    }

    /**
     * The current message.
     *
     * @param view a view of the whole segment
     * @return the message; empty when none was published
     */
    static String read(View view) {
        String previous = view.getString(OFFSET);
        for (int i = 0; i < MAX_READS; i++) {
            String current = view.getString(OFFSET);
            if (current.equals(previous)) {
                return current;
            }
            previous = current;
        }
        return previous;
    }
}
