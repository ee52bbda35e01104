/**
 * Message channels over shared memory: one-to-one, many-to-one and publish-subscribe, zero copy,
 * crash-safe, readable from C and Python.
 *
 * <p>Start with {@link io.shmkit.channel.Channel#openOrCreate}, then take a
 * {@link io.shmkit.channel.ChannelProducer} or a {@link io.shmkit.channel.ChannelConsumer} from it.
 * The binary layout is in {@code docs/channels.md}.
 */
package io.shmkit.channel;
