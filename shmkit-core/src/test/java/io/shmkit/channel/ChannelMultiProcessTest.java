package io.shmkit.channel;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every channel kind between separate JVMs, with checksummed, sequence-numbered messages of random
 * sizes in a 64 KiB ring (so it wraps thousands of times): nothing lost, duplicated, reordered per
 * producer or corrupted.
 */
class ChannelMultiProcessTest {

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    static ChildProcess producer(String name, ChannelKind kind, int id, long count, int maxLength, String... extra)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("produce", name, kind.name(), Integer.toString(id),
                Long.toString(count), Integer.toString(maxLength)));
        args.addAll(List.of(extra));
        return ChildProcess.java(ChannelPeer.class, args.toArray(String[]::new));
    }

    static ChildProcess consumer(String name, ChannelKind kind, long total, int producers, boolean subscriber)
            throws IOException {
        return ChildProcess.java(ChannelPeer.class, "consume", name, kind.name(), Long.toString(total),
                Integer.toString(producers), subscriber ? "subscriber" : "consumer");
    }

    static void expectOk(ChildProcess consumer, long total) {
        String result = consumer.await(l -> l.startsWith("OK") || l.startsWith("BAD"), "the consumer's verdict");
        assertEquals("OK " + total, result);
        consumer.waitForSuccess();
    }

    @Test
    void oneToOneMillionMessages() throws IOException {
        String name = names.unique("spsc");
        long count = 1_000_000;
        try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, ChannelOptions.defaults().capacity(64 * 1024));
             ChildProcess in = consumer(name, ChannelKind.ONE_TO_ONE, count, 1, false);
             ChildProcess out = producer(name, ChannelKind.ONE_TO_ONE, 0, count, 256)) {
            out.awaitPrefix("DONE");
            expectOk(in, count);
            out.waitForSuccess();
            ChannelStats stats = ch.stats();
            assertEquals(count, stats.messagesProduced());
            assertTrue(stats.tail() > 100 * ch.capacity(), "the ring wrapped many times");
        }
    }

    @Test
    void manyToOneWithThreeProducerProcesses() throws IOException {
        String name = names.unique("mpsc");
        int producers = 3;
        long each = 350_000;
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE, ChannelOptions.defaults().capacity(64 * 1024));
             ChildProcess in = consumer(name, ChannelKind.MANY_TO_ONE, producers * each, producers, false)) {
            in.awaitPrefix("JOINED");
            List<ChildProcess> outs = new ArrayList<>();
            try {
                for (int p = 0; p < producers; p++) {
                    outs.add(producer(name, ChannelKind.MANY_TO_ONE, p, each, 1000));
                }
                expectOk(in, producers * each);
                for (ChildProcess o : outs) {
                    o.awaitPrefix("DONE");
                    o.waitForSuccess();
                }
            } finally {
                outs.forEach(ChildProcess::close);
            }
            assertEquals(producers * each, ch.stats().messagesProduced());
        }
    }

    @Test
    void publishSubscribeTwoSubscriberProcessesSeeEverything() throws IOException {
        String name = names.unique("pubsub");
        long count = 1_000_000;
        try (Channel ch = Channel.create(name, ChannelKind.PUBLISH_SUBSCRIBE,
                ChannelOptions.defaults().capacity(64 * 1024));
             ChildProcess a = consumer(name, ChannelKind.PUBLISH_SUBSCRIBE, count, 1, true);
             ChildProcess b = consumer(name, ChannelKind.PUBLISH_SUBSCRIBE, count, 1, true)) {
            // Subscribers see what is published after they join: start the producer after both did.
            a.awaitPrefix("JOINED");
            b.awaitPrefix("JOINED");
            try (ChildProcess out = producer(name, ChannelKind.PUBLISH_SUBSCRIBE, 0, count, 600)) {
                expectOk(a, count);
                expectOk(b, count);
                out.awaitPrefix("DONE");
                out.waitForSuccess();
            }
            long live = ch.stats().participants().stream().filter(ChannelStats.Participant::alive).count();
            assertEquals(0, live, "everyone left");
        }
    }

    @Test
    void consumerAndProducerMayStartInEitherOrder() throws IOException {
        String name = names.unique("order");
        try (ChildProcess in = consumer(name, ChannelKind.ONE_TO_ONE, 1000, 1, false)) {
            in.awaitPrefix("JOINED");
            try (ChildProcess out = producer(name, ChannelKind.ONE_TO_ONE, 0, 1000, 100)) {
                expectOk(in, 1000);
                out.waitForSuccess();
            }
        }
    }
}
