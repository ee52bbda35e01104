package io.shmkit.channel;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static io.shmkit.channel.ChannelMultiProcessTest.consumer;
import static io.shmkit.channel.ChannelMultiProcessTest.expectOk;
import static io.shmkit.channel.ChannelMultiProcessTest.producer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGKILL at the worst moments: the crash rules of docs/channels.md hold. */
class ChannelKillTest {

    private static final ChannelOptions OPTIONS = ChannelOptions.defaults().capacity(64 * 1024);

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    /** Consumes in this JVM, checking every message, until {@code done} says so or a deadline passes. */
    private static Map<Integer, long[]> drain(ChannelConsumer in, java.util.function.Predicate<Map<Integer, long[]>> done)
            throws InterruptedException {
        return drain(in, new HashMap<>(), done);
    }

    /** Continues {@code ranges} (producer id to {first, last} sequence received). */
    private static Map<Integer, long[]> drain(ChannelConsumer in, Map<Integer, long[]> ranges,
                                              java.util.function.Predicate<Map<Integer, long[]>> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.test(ranges)) {
            if (System.nanoTime() > deadline) {
                Channel ch = in.channel();
                long h = ch.data.get(ValueLayout.JAVA_LONG, in.position() & ch.mask);
                throw new AssertionError("timed out; received so far: " + describe(ranges) + "; position "
                        + in.position() + ", header there 0x" + Long.toHexString(h) + ", " + ch.stats());
            }
            int n = in.poll(m -> {
                assertNull(ChannelPeer.check(m), "intact message");
                long seq = m.buffer().get(ValueLayout.JAVA_LONG_UNALIGNED, m.offset() + 8);
                long[] r = ranges.computeIfAbsent(m.typeId(), k -> new long[] {seq, seq - 1});
                assertEquals(r[1] + 1, seq, "producer " + m.typeId() + " in order, nothing lost or repeated");
                r[1] = seq;
            }, 256);
            if (n == 0) {
                in.awaitMessages(Duration.ofMillis(50));
            }
        }
        return ranges;
    }

    private static String describe(Map<Integer, long[]> ranges) {
        StringBuilder b = new StringBuilder();
        ranges.forEach((p, r) -> b.append(p).append(": ").append(r[0]).append("..").append(r[1]).append("; "));
        return b.toString();
    }

    @Test
    void manyToOneGoesOnWhenAProducerIsKilledMidStream() throws Exception {
        String name = names.unique("killprod");
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE, OPTIONS);
             ChannelConsumer in = ch.consumer();
             ChildProcess victim = producer(name, ChannelKind.MANY_TO_ONE, 0, 100_000_000, 500);
             ChildProcess survivor = producer(name, ChannelKind.MANY_TO_ONE, 1, 200_000, 500)) {
            Map<Integer, long[]> r = drain(in, m -> m.containsKey(0) && m.get(0)[1] > 50_000);
            victim.kill();
            drain(in, r, m -> m.containsKey(1) && m.get(1)[1] == 199_999);
            assertEquals(0, r.get(0)[0], "the victim's messages are a prefix of what it sent");
            survivor.waitForSuccess();
            ChannelStats.Participant dead = ch.stats().participants().stream()
                    .filter(p -> p.pid() == (int) victim.pid()).findFirst().orElseThrow();
            assertFalse(dead.alive(), "stat shows the killed producer as not alive");
        }
    }

    @Test
    void killingProducersAtRandomPointsNeverCorruptsOrHangs() throws Exception {
        repeatKills(3, 1);
    }

    @Test
    @org.junit.jupiter.api.Tag("soak")
    @org.junit.jupiter.api.Timeout(value = 30, unit = java.util.concurrent.TimeUnit.MINUTES)
    void soakKillingProducersAtRandomPoints() throws Exception {
        repeatKills(Integer.getInteger("shmkit.soak.iterations", 100), 2);
    }

    /**
     * Each round: a victim and a survivor produce into a many-to-one channel; the victim is killed
     * after a random number of its messages arrived; everything the survivor sends still arrives,
     * intact and in order, and the victim's messages are a gap-free prefix.
     */
    private void repeatKills(int rounds, int victims) throws Exception {
        java.util.Random random = new java.util.Random();
        for (int round = 0; round < rounds; round++) {
            String name = names.unique("killloop" + round);
            try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE, OPTIONS);
                 ChannelConsumer in = ch.consumer();
                 ChildProcess survivor = producer(name, ChannelKind.MANY_TO_ONE, 0, 50_000, 700)) {
                Map<Integer, long[]> r = new HashMap<>();
                for (int v = 1; v <= victims; v++) {
                    int id = v;
                    long killAfter = random.nextInt(30_000);
                    try (ChildProcess victim = producer(name, ChannelKind.MANY_TO_ONE, id, 100_000_000, 700)) {
                        drain(in, r, m -> m.containsKey(id) && m.get(id)[1] >= killAfter);
                        victim.kill();
                    }
                }
                drain(in, r, m -> m.containsKey(0) && m.get(0)[1] == 49_999);
                survivor.waitForSuccess();
                try (ChannelProducer after = ch.producer()) {
                    byte[] b = new byte[64];
                    ChannelPeer.fill(java.lang.foreign.MemorySegment.ofArray(b), 0, 64, 9, 0);
                    assertTrue(after.offer(9, b), "the channel still takes messages");
                }
                drain(in, r, m -> m.containsKey(9));
            }
        }
    }

    @Test
    void aProducerKilledMidClaimDoesNotBlockTheOthers() throws Exception {
        String name = names.unique("killclaim");
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE, OPTIONS);
             ChannelConsumer in = ch.consumer();
             ChildProcess victim = producer(name, ChannelKind.MANY_TO_ONE, 0, 100, 200, "claim-and-hang")) {
            victim.awaitPrefix("CLAIMED");
            try (ChildProcess other = producer(name, ChannelKind.MANY_TO_ONE, 1, 10_000, 200)) {
                other.awaitPrefix("JOINED");
                victim.kill();
                Map<Integer, long[]> r = drain(in, m -> m.containsKey(1) && m.get(1)[1] == 9_999);
                assertEquals(99, r.get(0)[1], "all the victim committed, and not its unfinished record");
                other.waitForSuccess();
            }
        }
    }

    @Test
    void aLiveButStuckProducerIsSkippedAfterTheTimeout() throws Exception {
        String name = names.unique("stuck");
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE, OPTIONS);
             ChildProcess stuck = producer(name, ChannelKind.MANY_TO_ONE, 0, 100, 200, "claim-and-hang")) {
            stuck.awaitPrefix("CLAIMED");
            try (Channel mine = Channel.open(name, OPTIONS.stuckRecordTimeout(Duration.ofMillis(200)));
                 ChannelConsumer in = mine.consumer();
                 ChannelProducer out = mine.producer()) {
                byte[] later = new byte[64];
                java.lang.foreign.MemorySegment m = java.lang.foreign.MemorySegment.ofArray(later);
                ChannelPeer.fill(m, 0, 64, 2, 0);
                assertTrue(out.offer(2, later));
                Map<Integer, long[]> r = drain(in, x -> x.containsKey(2));
                assertEquals(99, r.get(0)[1]);
                assertTrue(stuck.isAlive(), "skipped although its producer still runs");
            }
        }
    }

    @Test
    void aNewProducerTakesOverFromOneKilledMidClaim() throws Exception {
        for (ChannelKind kind : new ChannelKind[] {ChannelKind.ONE_TO_ONE, ChannelKind.PUBLISH_SUBSCRIBE}) {
            String name = names.unique("takeover");
            try (Channel ch = Channel.create(name, kind, OPTIONS);
                 ChannelConsumer in = kind == ChannelKind.ONE_TO_ONE ? ch.consumer() : ch.subscriber()) {
                try (ChildProcess first = producer(name, kind, 0, 100, 300, "claim-and-hang")) {
                    first.awaitPrefix("CLAIMED");
                    if (kind == ChannelKind.PUBLISH_SUBSCRIBE) {
                        drain(in, r -> r.containsKey(0) && r.get(0)[1] == 99);
                    }
                    first.kill();
                }
                Map<Integer, long[]> r;
                try (ChildProcess second = producer(name, kind, 1, 3000, 300)) {
                    r = drain(in, m -> m.containsKey(1) && m.get(1)[1] == 2999);
                    second.waitForSuccess();
                }
                if (kind == ChannelKind.ONE_TO_ONE) {
                    assertEquals(99, r.get(0)[1], "everything the first producer committed");
                }
                assertEquals(0, r.get(1)[0]);
            }
        }
    }

    @Test
    void aRestartedConsumerResumesWhereTheKilledOneStopped() throws Exception {
        String name = names.unique("killcons");
        long count = 400_000;
        try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, OPTIONS)) {
            Thread feeder;
            try (ChildProcess first = consumer(name, ChannelKind.ONE_TO_ONE, count, 1, false)) {
                first.awaitPrefix("JOINED");
                feeder = Thread.ofPlatform().start(() -> {
                    try (ChannelProducer out = ch.producer()) {
                        java.lang.foreign.MemorySegment m = java.lang.foreign.MemorySegment.ofArray(new byte[100]);
                        byte[] b = new byte[100];
                        for (long seq = 0; seq < count; seq++) {
                            ChannelPeer.fill(m, 0, 100, 0, seq);
                            java.lang.foreign.MemorySegment.copy(m, ValueLayout.JAVA_BYTE, 0, b, 0, 100);
                            if (!out.send(0, b, Duration.ofSeconds(60))) {
                                throw new AssertionError("channel stayed full at " + seq);
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                long seen = Long.parseLong(first.awaitPrefix("SEEN "));
                first.kill();
                try (ChildProcess second = ChildProcess.java(ChannelPeer.class, "consume", name, "ONE_TO_ONE",
                        Long.toString(count), "1", "consumer", Long.toString(count - 1))) {
                    long resumedAt = Long.parseLong(second.awaitPrefix("GOT 0 "));
                    assertTrue(resumedAt >= seen - 1, "resumed at " + resumedAt + ", not before the "
                            + seen + " messages the killed consumer reported (at most the one in flight again)");
                    assertEquals("0 " + (count - 1), second.awaitPrefix("LAST "));
                    assertEquals("OK " + (count - resumedAt), second.await(l -> l.startsWith("OK")
                            || l.startsWith("BAD"), "verdict"));
                    second.waitForSuccess();
                }
            }
            feeder.join(60_000);
            assertFalse(feeder.isAlive());
        }
    }

    @Test
    void aKilledSubscriberStopsHoldingTheProducerBack() throws Exception {
        String name = names.unique("killsub");
        long count = 300_000;
        try (Channel ch = Channel.create(name, ChannelKind.PUBLISH_SUBSCRIBE, OPTIONS);
             ChildProcess victim = consumer(name, ChannelKind.PUBLISH_SUBSCRIBE, Long.MAX_VALUE, 1, true);
             ChildProcess survivor = consumer(name, ChannelKind.PUBLISH_SUBSCRIBE, count, 1, true)) {
            victim.awaitPrefix("JOINED");
            survivor.awaitPrefix("JOINED");
            try (ChannelProducer out = ch.producer()) {
                java.lang.foreign.MemorySegment m = java.lang.foreign.MemorySegment.ofArray(new byte[200]);
                byte[] b = new byte[200];
                for (long seq = 0; seq < count; seq++) {
                    if (seq == 50_000) {
                        victim.kill();
                    }
                    ChannelPeer.fill(m, 0, 200, 0, seq);
                    java.lang.foreign.MemorySegment.copy(m, ValueLayout.JAVA_BYTE, 0, b, 0, 200);
                    assertTrue(out.send(0, b, Duration.ofSeconds(30)), "held back at " + seq);
                }
            }
            expectOk(survivor, count);
            assertTrue(ch.stats().participants().stream()
                    .anyMatch(p -> p.pid() == (int) victim.pid() && !p.alive()));
        }
    }

    /**
     * A producer killed between claiming space (its tail CAS) and writing the header, while another
     * producer's slot, left cleanly, still shows the same position with another length (the tail
     * CAS it lost for that space, before it gave up on a full ring and closed): the consumer pads
     * the claim with the dead claimant's length, not the closed one's, and goes on.
     */
    @Test
    void aClaimWithoutHeaderIsPaddedWithItsClaimantsLengthNotAClosedSlotsStaleOne() throws Exception {
        String name = names.unique("staleclaim");
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE, OPTIONS.maxProducers(2));
             ChannelConsumer in = ch.consumer()) {
            ChannelProducer first = ch.producer();
            byte[] b = new byte[64];
            java.lang.foreign.MemorySegment bs = java.lang.foreign.MemorySegment.ofArray(b);
            for (int seq = 0; seq < 3; seq++) {
                ChannelPeer.fill(bs, 0, 64, 0, seq);
                assertTrue(first.offer(0, b));
            }
            drain(in, r -> r.containsKey(0) && r.get(0)[1] == 2);
            long claimed;
            long stale = ch.producerSlot(0);
            long dead = ch.producerSlot(1);
            try (ChildProcess victim = producer(name, ChannelKind.MANY_TO_ONE, 1, 0, 64, "claim-and-hang")) {
                victim.awaitPrefix("CLAIMED");
                victim.kill();
                victim.waitFor();
                claimed = ch.header.get(ValueLayout.JAVA_LONG, dead + io.shmkit.internal.layout.SlotDescriptor.POSITION_OFFSET);
                // As if it had died between its tail CAS and its header CAS.
                ch.data.set(ValueLayout.JAVA_LONG, claimed & ch.mask, 0L);
            }
            assertEquals(claimed + 72, ch.header.get(ValueLayout.JAVA_LONG, 64), "the tail covers the claim");
            // What the first producer's slot shows after losing the tail CAS for that space with a
            // 200-byte record, finding the ring full, and leaving.
            ch.header.set(ValueLayout.JAVA_LONG, stale + io.shmkit.internal.layout.SlotDescriptor.POSITION_OFFSET, claimed);
            ch.header.set(ValueLayout.JAVA_INT, stale + io.shmkit.internal.layout.SlotDescriptor.CLAIM_LENGTH_OFFSET, 200);
            first.close();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (in.position() == claimed && System.nanoTime() < deadline) {
                in.awaitMessages(Duration.ofMillis(20));
                in.poll(m -> {
                    throw new AssertionError("nothing to deliver");
                }, 1);
            }
            assertEquals(claimed + 72, in.position(), "skipped the dead claim, by its own length");
            try (ChannelProducer next = ch.producer()) {
                ChannelPeer.fill(bs, 0, 64, 2, 0);
                assertTrue(next.offer(2, b));
            }
            drain(in, r -> r.containsKey(2));
        }
    }

    /**
     * Publish-subscribe: a producer that died between publishing the clean position it meant to
     * reach and lowering it for a subscriber it had just seen leaves that position over the
     * subscriber's unread bytes; the producer taking over must not zero them.
     */
    @Test
    void aProducerTakingOverNeverZeroesASubscribersUnreadBytes() throws Exception {
        String name = names.unique("takeoverclean");
        try (Channel ch = Channel.create(name, ChannelKind.PUBLISH_SUBSCRIBE, OPTIONS);
             ChannelConsumer sub = ch.subscriber()) {
            byte[] b = new byte[100];
            java.lang.foreign.MemorySegment bs = java.lang.foreign.MemorySegment.ofArray(b);
            long sent = 0;
            try (ChannelProducer first = ch.producer()) {
                while (true) {
                    ChannelPeer.fill(bs, 0, 100, 0, sent);
                    if (!first.offer(0, b)) {
                        break; // full: the subscriber has read nothing
                    }
                    sent++;
                }
            }
            long tail = ch.header.get(ValueLayout.JAVA_LONG, 64);
            ch.header.set(ValueLayout.JAVA_LONG, 72, tail + 8192);
            try (ChannelProducer second = ch.producer()) {
                assertFalse(second.offer(0, b), "still full");
            }
            long total = sent;
            Map<Integer, long[]> r = drain(sub, m -> m.containsKey(0) && m.get(0)[1] == total - 1);
            assertEquals(0, r.get(0)[0]);
        }
    }

    /**
     * A consumer killed while asleep waiting for data leaves its count in "consumers waiting": its
     * successor starts that count again from 0, or every commit would make a futex system call for
     * nobody (about ten times slower).
     */
    @Test
    void aConsumerKilledWhileWaitingLeavesNoWaiterBehind() throws Exception {
        String name = names.unique("killwaiting");
        long consumersWaiting = io.shmkit.internal.layout.ChannelDescriptor.CONSUMERS_WAITING_OFFSET;
        try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, OPTIONS)) {
            try (ChildProcess sleeper = consumer(name, ChannelKind.ONE_TO_ONE, 1, 1, false)) {
                sleeper.awaitPrefix("JOINED");
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (ch.header.get(ValueLayout.JAVA_INT, consumersWaiting) == 0) {
                    assertTrue(System.nanoTime() < deadline, "the consumer never went to sleep");
                    Thread.onSpinWait();
                }
                sleeper.kill();
                sleeper.waitFor();
            }
            assertEquals(1, ch.header.get(ValueLayout.JAVA_INT, consumersWaiting), "left by the killed one");
            try (ChannelConsumer next = ch.consumer(); ChannelProducer out = ch.producer()) {
                assertEquals(0, ch.header.get(ValueLayout.JAVA_INT, consumersWaiting));
                assertTrue(out.offer(1, new byte[8]));
                assertNotNull(next.receive(Duration.ofSeconds(5)));
            }
        }
    }
}
