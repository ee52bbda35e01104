package io.shmkit.channel;

import io.shmkit.Segment;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import io.shmkit.internal.layout.ChannelDescriptor;
import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.shmkit.channel.ChannelMultiProcessTest.producer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The receiving side SIGKILLed and restarted again and again while producers stream: across all
 * the restarts every producer's messages arrive in order, none lost, and none twice but the one in
 * flight at each kill ({@link ChannelLedgerPeer} checks each against the ledger its predecessors
 * kept). Kills land at random points of the consumer's work (handling, retiring and zeroing a
 * record, committing) and once while it sleeps waiting for messages.
 */
class ChannelRestartLoopTest {

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    @Test
    void manyToOneConsumerKilledAndRestartedRepeatedly() throws Exception {
        consumerRestarts(ChannelKind.MANY_TO_ONE, 3, 3, 6_000);
    }

    @Test
    void oneToOneConsumerKilledAndRestartedRepeatedly() throws Exception {
        consumerRestarts(ChannelKind.ONE_TO_ONE, 1, 3, 6_000);
    }

    @Test
    void namedSubscriberKilledAndResumedRepeatedly() throws Exception {
        subscriberRestarts(3, 20_000);
    }

    @Test
    @Tag("soak")
    @org.junit.jupiter.api.Timeout(value = 30, unit = java.util.concurrent.TimeUnit.MINUTES)
    void soakRestartLoops() throws Exception {
        for (int i = 0; i < Integer.getInteger("shmkit.soak.iterations", 10); i++) {
            consumerRestarts(ChannelKind.MANY_TO_ONE, 3, 10, 30_000);
            consumerRestarts(ChannelKind.ONE_TO_ONE, 1, 10, 30_000);
            subscriberRestarts(10, 30_000);
        }
    }

    /**
     * {@code streaming} producers stream; the consumer is killed {@code kills} times while they do,
     * then once asleep after their last message, before another producer starts (one-to-one: once
     * they left).
     */
    private void consumerRestarts(ChannelKind kind, int streaming, int kills, long perProducer) throws Exception {
        String name = names.unique("restartcons");
        String ledgerName = names.unique("restartledger");
        try (Channel ch = Channel.create(name, kind, ChannelOptions.defaults().capacity(64 * 1024));
             Segment ls = SharedMemory.create(ledgerName, 64 * 8); View lv = ls.map()) {
            MemorySegment ledger = lv.memory();
            ledger.fill((byte) -1);
            List<ChildProcess> producers = new ArrayList<>();
            try {
                for (int id = 0; id < streaming; id++) {
                    // Records up to 2 KiB: zeroing one (many-to-one) takes long enough that some kills land in it.
                    producers.add(producer(name, kind, id, perProducer, 2048));
                }
                killRepeatedly(name, ledger, ledgerName, streaming + 1, perProducer, null, kills, null);
                killAsleep(ch, ledger, name, ledgerName, streaming + 1, perProducer, null, producers);
                for (ChildProcess p : producers) {
                    p.waitForSuccess();
                }
                producers.add(producer(name, kind, streaming, perProducer, 2048));
                try (ChildProcess last = ledgerConsumer(name, ledgerName, streaming + 1, perProducer, null)) {
                    expectOk(last);
                }
                for (ChildProcess p : producers) {
                    p.waitForSuccess();
                }
            } finally {
                producers.forEach(ChildProcess::close);
            }
            assertEquals(0, ch.header.get(ValueLayout.JAVA_INT, ChannelDescriptor.CONSUMERS_WAITING_OFFSET));
        }
    }

    /**
     * A named subscriber, in a ring large enough for every message (a dead subscriber does not hold
     * the producer back, so one that stays away longer loses messages, as documented): killed
     * {@code kills} times while the producer streams, then once asleep, then resumed to the end.
     */
    private void subscriberRestarts(int kills, long perProducer) throws Exception {
        String name = names.unique("restartps");
        String ledgerName = names.unique("restartledger");
        String subscriber = "ledger";
        try (Channel ch = Channel.create(name, ChannelKind.PUBLISH_SUBSCRIBE,
                     ChannelOptions.defaults().capacity(32L << 20));
             Segment ls = SharedMemory.create(ledgerName, 64 * 8); View lv = ls.map()) {
            MemorySegment ledger = lv.memory();
            ledger.fill((byte) -1);
            // The subscriber joins first: a new one starts at the next message published.
            ChildProcess first = ledgerConsumer(name, ledgerName, 2, perProducer, subscriber);
            first.awaitPrefix("JOINED");
            try (ChildProcess p0 = producer(name, ChannelKind.PUBLISH_SUBSCRIBE, 0, perProducer, 400)) {
                killRepeatedly(name, ledger, ledgerName, 2, perProducer, subscriber, kills, first);
                killAsleep(ch, ledger, name, ledgerName, 2, perProducer, subscriber, List.of(p0));
                // The producer leaves, and a second one publishes after the subscriber's last death.
                p0.waitForSuccess();
                try (ChildProcess p1 = producer(name, ChannelKind.PUBLISH_SUBSCRIBE, 1, perProducer, 400);
                     ChildProcess last = ledgerConsumer(name, ledgerName, 2, perProducer, subscriber)) {
                    expectOk(last);
                    p1.waitForSuccess();
                }
            }
        }
    }

    private static ChildProcess ledgerConsumer(String name, String ledger, int producers, long perProducer,
                                               String subscriber) throws IOException {
        List<String> args = new ArrayList<>(List.of(name, ledger, Integer.toString(producers),
                Long.toString(perProducer - 1)));
        if (subscriber != null) {
            args.add(subscriber);
        }
        return ChildProcess.java(ChannelLedgerPeer.class, args.toArray(String[]::new));
    }

    /**
     * Kills {@code kills} consumers in turn (the first may be given, already joined). Victim
     * {@code k} dies once producer 0's messages handled, by it and its predecessors, passed the
     * {@code k+1}-th of {@code kills + 2} even steps through the stream (and it handled one at
     * least), or once it caught up with all of them: a kill point every victim reaches, however
     * far its predecessor ran past its own between the look and the kill.
     */
    private void killRepeatedly(String name, MemorySegment ledger, String ledgerName, int producers,
                                long perProducer, String subscriber, int kills, ChildProcess first)
            throws IOException {
        for (int k = 0; k < kills; k++) {
            try (ChildProcess victim = k == 0 && first != null ? first
                    : ledgerConsumer(name, ledgerName, producers, perProducer, subscriber)) {
                if (k > 0 || first == null) {
                    victim.awaitPrefix("JOINED");
                }
                long start = handled(ledger, 0);
                long target = Math.max((k + 1) * perProducer / (kills + 2), start + 1);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                long seen;
                while ((seen = handled(ledger, 0)) < Math.min(target, perProducer - 1)) {
                    assertTrue(victim.isAlive(), () -> "the consumer ended: " + victim.remainingOutput());
                    assertTrue(System.nanoTime() < deadline, "the consumer stopped at " + seen + " of " + target);
                    Thread.onSpinWait();
                }
                victim.kill();
            }
        }
    }

    /** The last sequence of {@code producer} a consumer handled, as the ledger says now. */
    private static long handled(MemorySegment ledger, int producer) {
        return (long) Channel.LONG.getVolatile(ledger, producer * 8L);
    }

    /**
     * Runs a consumer until the {@code running} producers are done, it handled the last message of
     * each and sleeps waiting for more, then kills it there.
     */
    private static void killAsleep(Channel ch, MemorySegment ledger, String name, String ledgerName, int producers,
                                   long perProducer, String subscriber, List<ChildProcess> running)
            throws IOException {
        int finished = running.size();
        try (ChildProcess sleeper = ledgerConsumer(name, ledgerName, producers, perProducer, subscriber)) {
            sleeper.awaitPrefix("JOINED");
            for (ChildProcess p : running) {
                p.awaitPrefix("DONE");
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!caughtUp(ledger, finished, perProducer - 1)
                    || ch.header.get(ValueLayout.JAVA_INT, ChannelDescriptor.CONSUMERS_WAITING_OFFSET) == 0) {
                assertTrue(sleeper.isAlive(), () -> "the consumer ended: " + sleeper.remainingOutput());
                assertTrue(System.nanoTime() < deadline, "the consumer never caught up and slept");
                Thread.onSpinWait();
            }
            sleeper.kill();
        }
    }

    private static boolean caughtUp(MemorySegment ledger, int producers, long lastSeq) {
        for (int p = 0; p < producers; p++) {
            if (handled(ledger, p) != lastSeq) {
                return false;
            }
        }
        return true;
    }

    private static void expectOk(ChildProcess consumer) {
        String verdict = consumer.await(l -> l.startsWith("OK") || l.startsWith("BAD"), "the consumer's verdict");
        assertTrue(verdict.startsWith("OK"), verdict);
        consumer.waitForSuccess();
    }
}
