package io.shmkit.channel;

import java.util.List;

/**
 * A snapshot of a channel, as {@code shm stat} shows it.
 *
 * @param name the channel's segment name
 * @param kind its kind
 * @param capacity the ring's capacity in bytes
 * @param maxMessageLength the largest payload
 * @param tail the producers' position: bytes ever written to the ring, padding included
 * @param createdMillis when it was created, ms since the epoch
 * @param participants every slot in use or used before
 */
public record ChannelStats(String name, ChannelKind kind, long capacity, int maxMessageLength, long tail,
                           long createdMillis, List<Participant> participants) {

    /** A copy; {@code participants} is copied. */
    public ChannelStats {
        participants = List.copyOf(participants);
    }

    /** @return messages produced, summed over the producers */
    public long messagesProduced() {
        return participants.stream().filter(p -> p.role().equals("producer")).mapToLong(Participant::messages).sum();
    }

    /** @return the largest lag of a live consumer or subscriber, in bytes (0 when there is none) */
    public long maxLag() {
        return participants.stream().filter(p -> !p.role().equals("producer") && p.alive())
                .mapToLong(Participant::lag).max().orElse(0);
    }

    /**
     * One participant slot.
     *
     * @param role "producer", "consumer" or "subscriber"
     * @param slot its index among slots of its role
     * @param state "active", "joining", "closed" or "dead"
     * @param pid the process that holds or held it
     * @param alive whether that process still runs (pid and start time checked)
     * @param heartbeatMillis when it last showed signs of life, ms since the epoch
     * @param position consumers: the next position to read; producers: -1
     * @param lag consumers: bytes published but not yet read; producers: -1
     * @param messages messages produced or consumed through this slot
     * @param subscriberName a named subscriber's name, or ""
     */
    public record Participant(String role, int slot, String state, int pid, boolean alive, long heartbeatMillis,
                              long position, long lag, long messages, String subscriberName) {
    }
}
