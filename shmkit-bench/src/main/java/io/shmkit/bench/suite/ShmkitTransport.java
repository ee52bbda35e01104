package io.shmkit.bench.suite;

import io.shmkit.channel.Channel;
import io.shmkit.channel.ChannelConsumer;
import io.shmkit.channel.ChannelKind;
import io.shmkit.channel.ChannelOptions;
import io.shmkit.channel.ChannelProducer;
import io.shmkit.channel.Claim;
import io.shmkit.channel.IdleStrategy;
import io.shmkit.channel.Message;
import io.shmkit.channel.MessageHandler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * shmkit channels: one channel per stream, of the given kind. Senders claim space, write the
 * message in place and commit ({@code tryClaim}/{@code commit}); receivers poll in place. Idle:
 * busy-spin ({@link IdleStrategy#busySpin()}), block ({@link ChannelConsumer#blockingIdleStrategy()}:
 * spins, then sleeps on the channel's futex word) or yield ({@link IdleStrategy#yielding()}).
 */
final class ShmkitTransport implements Transport {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private final ChannelKind kind;
    private final Map<String, Channel> channels = new HashMap<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private Config config;

    ShmkitTransport(ChannelKind kind) {
        this.kind = kind;
    }

    @Override
    public String start(Config config, boolean first, List<String> streams) throws Exception {
        this.config = config;
        for (String stream : streams) {
            String name = config.base() + "-" + stream;
            Channel ch = first
                    ? Channel.create(name, kind, ChannelOptions.defaults().capacity(config.ring()))
                    : Channel.open(name, Duration.ofSeconds(10));
            channels.put(stream, ch);
        }
        return "";
    }

    @Override
    public Sender sender(String stream) {
        ChannelProducer producer = channels.get(stream).producer();
        open.add(producer);
        MemorySegment source = Arena.ofAuto().allocate(Math.max(16, config.size()), 64);
        return (seq, length) -> {
            Claim claim = producer.tryClaim(1, length);
            if (claim == null) {
                return false;
            }
            MemorySegment buffer = claim.buffer();
            long offset = claim.offset();
            buffer.set(LONG, offset, seq);
            MemorySegment.copy(source, 8, buffer, offset + 8, length - 16);
            buffer.set(LONG, offset + length - 8, seq);
            claim.commit();
            return true;
        };
    }

    @Override
    public Receiver receiver(String stream) {
        Channel ch = channels.get(stream);
        ChannelConsumer consumer = kind == ChannelKind.PUBLISH_SUBSCRIBE ? ch.subscriber() : ch.consumer();
        open.add(consumer);
        IdleStrategy idle = config.blocking() ? consumer.blockingIdleStrategy()
                : config.yielding() ? IdleStrategy.yielding() : IdleStrategy.busySpin();
        return new Receiver() {
            private Sink sink;
            private final MessageHandler handler = this::onMessage;

            private void onMessage(Message m) {
                MemorySegment b = m.buffer();
                long off = m.offset();
                int len = m.length();
                sink.onMessage(b.get(LONG, off), b.get(LONG, off + len - 8), len);
            }

            @Override
            public int poll(Sink s, int limit) {
                sink = s;
                int n = consumer.poll(handler, limit);
                if (n > 0) {
                    idle.reset();
                }
                return n;
            }

            @Override
            public void idle() {
                idle.idle(0);
            }
        };
    }

    static String idleDescription(String mode) {
        return switch (mode) {
            case "block" -> "ChannelConsumer.blockingIdleStrategy() (200 spins, then futex sleep until a commit)";
            case "yield" -> "IdleStrategy.yielding() (100 spins, then Thread.yield)";
            default -> "IdleStrategy.busySpin() (Thread.onSpinWait)";
        };
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        for (Channel ch : channels.values()) {
            ch.close();
        }
    }
}
