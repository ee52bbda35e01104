package io.shmkit.channel;

import java.nio.charset.StandardCharsets;

/**
 * A message copied out of a channel by {@link ChannelConsumer#receive(java.time.Duration)}.
 *
 * @param typeId the type id the producer gave
 * @param payload the payload bytes
 */
public record ReceivedMessage(int typeId, byte[] payload) {

    /** @return the payload decoded as UTF-8 */
    public String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }
}
