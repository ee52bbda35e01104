package io.shmkit.bench.suite;

import java.util.List;

/**
 * One way of moving messages between processes, as the suite drives it. A child process makes one
 * transport, {@link #start starts} it, then opens the {@link Sender}s and {@link Receiver}s its role
 * needs, by stream name ("ping", "pong", "data").
 *
 * <p>Every message is {@code length} bytes (at least 16): its first and last 8 bytes carry the
 * sender's sequence number, the bytes between are copied from a source buffer. Receivers read the
 * message in place where the transport allows it (shared-memory rings) and hand its first and last
 * 8 bytes to the {@link Sink}; the sink checks that they agree, so a torn message is noticed.
 */
interface Transport extends AutoCloseable {

    /**
     * Sets the transport up in this process.
     *
     * @param config the child's configuration
     * @param first true in the process started first: it creates what the streams need (segments,
     *        ring files, the media driver, the listening socket); the others open them
     * @param streams the stream names of the scenario
     * @return key=value words to pass to the processes started after this one (e.g. a TCP port),
     *         or an empty string
     */
    String start(Config config, boolean first, List<String> streams) throws Exception;

    /** @return a sender into the stream */
    Sender sender(String stream) throws Exception;

    /** @return a receiver of the stream */
    Receiver receiver(String stream) throws Exception;

    /** Releases everything; the first process also removes what it created. */
    @Override
    void close() throws Exception;

    /** Sends messages. */
    interface Sender {
        /**
         * Sends one message without waiting.
         *
         * @return false when the transport pushes back (ring full): try again
         */
        boolean offer(long seq, int length) throws Exception;
    }

    /** Receives messages. */
    interface Receiver {
        /** Delivers up to {@code limit} messages to the sink; returns how many (0: none yet). */
        int poll(Sink sink, int limit) throws Exception;

        /** What to do after a poll that found nothing: the mode's idle strategy. */
        void idle();
    }

    /** Where a receiver hands messages. */
    interface Sink {
        void onMessage(long firstWord, long lastWord, int length);
    }
}
