package io.shmkit.channel;

/** Receives messages from {@link ChannelConsumer#poll(MessageHandler, int)}. */
@FunctionalInterface
public interface MessageHandler {
    /**
     * Called once per message, in order. The message's bytes are read in place, in the channel's
     * ring: copy what you need before returning, because the space is reused afterwards, and do not
     * keep {@code message} (the consumer reuses it for the next one).
     *
     * @param message the message: type id, and a view of its payload
     */
    void onMessage(Message message);
}
