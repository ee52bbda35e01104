package io.shmkit.channel;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Participants that stall (alive, not progressing) instead of dying. */
class ChannelStallTest {

    private static final ChannelOptions OPTIONS = ChannelOptions.defaults().capacity(64 * 1024);

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    /**
     * A many-to-one producer stalls between claiming a record and writing it, longer than the
     * stuck-record timeout; the consumer skips the record and goes on. The producer then resumes,
     * writes its payload and commits: the commit reports failure, and the channel keeps working for
     * laps afterwards, every message intact and in order.
     */
    @Test
    void aManyToOneProducerThatResumesAfterItsRecordWasSkippedLeavesTheRingIntact() throws Exception {
        String name = names.unique("stall");
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE,
                     OPTIONS.stuckRecordTimeout(Duration.ofMillis(200)));
             ChannelConsumer in = ch.consumer();
             ChannelProducer out = ch.producer();
             ChildProcess staller = ChildProcess.java(Staller.class, name)) {
            long[] next = {0};
            MessageHandler check = m -> {
                assertNull(ChannelPeer.check(m), "intact message");
                assertEquals(1, m.typeId(), "only our messages: the stalled one was skipped");
                assertEquals(next[0]++, m.buffer().get(ValueLayout.JAVA_LONG_UNALIGNED, m.offset() + 8));
            };
            byte[] b = new byte[700];
            MemorySegment bs = MemorySegment.ofArray(b);
            Random random = new Random(42);
            long seq = 0;
            // Some traffic first, so that the stalled record does not start at 0.
            for (; seq < 37; seq++) {
                int length = 24 + random.nextInt(600);
                ChannelPeer.fill(bs, 0, length, 1, seq);
                assertTrue(out.offer(1, java.util.Arrays.copyOf(b, length)));
            }
            while (in.poll(check, 256) > 0) {
                // drained
            }
            staller.send("claim");
            staller.awaitPrefix("CLAIMED");
            ChannelPeer.fill(bs, 0, 100, 1, seq);
            assertTrue(out.offer(1, java.util.Arrays.copyOf(b, 100)));
            seq++;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (next[0] < seq && System.nanoTime() < deadline) {
                if (in.poll(check, 256) == 0) {
                    in.awaitMessages(Duration.ofMillis(50));
                }
            }
            assertEquals(seq, next[0], "the stalled record was skipped after the timeout");
            staller.send("write");
            assertEquals("false", staller.awaitPrefix("COMMITTED "), "the late commit reports failure");
            staller.waitForSuccess();
            // Three laps of records of other sizes over the place the stalled producer wrote into.
            long end = seq + 3 * OPTIONS.capacity() / 300;
            while (seq < end) {
                int length = 24 + random.nextInt(600);
                ChannelPeer.fill(bs, 0, length, 1, seq);
                byte[] msg = java.util.Arrays.copyOf(b, length);
                long stuck = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (!out.offer(1, msg)) {
                    if (in.poll(check, 256) == 0) {
                        assertTrue(System.nanoTime() < stuck, "stuck at message " + next[0] + ", " + ch.stats());
                        in.awaitMessages(Duration.ofMillis(20));
                    }
                }
                seq++;
            }
            long stuck = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (next[0] < seq) {
                if (in.poll(check, 256) == 0) {
                    assertTrue(System.nanoTime() < stuck, "stuck at message " + next[0] + ", " + ch.stats());
                    in.awaitMessages(Duration.ofMillis(20));
                }
            }
        }
    }

    /** On "claim": claims a 4000-byte record; on "write": fills and commits it; prints what commit said. */
    public static final class Staller {
        public static void main(String[] args) throws Exception {
            BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
            try (Channel ch = Channel.open(args[0]); ChannelProducer out = ch.producer()) {
                assertEquals("claim", stdin.readLine());
                Claim c = out.tryClaim(2, 4000);
                System.out.println("CLAIMED " + c.offset());
                assertEquals("write", stdin.readLine()); // the stall: alive, not progressing
                ChannelPeer.fill(c.buffer(), c.offset(), 4000, 2, 0);
                System.out.println("COMMITTED " + c.commit());
            }
        }
    }

    private static void signal(String sig, long pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor());
    }

    /**
     * A subscriber stopped with SIGSTOP is alive: the producer waits for it (send times out) rather
     * than dropping it, and after SIGCONT it receives every message, intact and in order.
     */
    @Test
    void aStoppedSubscriberHoldsTheProducerBackAndMissesNothing() throws Exception {
        String name = names.unique("stopsub");
        long count = 5_000;
        try (Channel ch = Channel.create(name, ChannelKind.PUBLISH_SUBSCRIBE, OPTIONS);
             ChannelProducer out = ch.producer();
             ChildProcess sub = ChannelMultiProcessTest.consumer(name, ChannelKind.PUBLISH_SUBSCRIBE, count, 1, true)) {
            sub.awaitPrefix("JOINED");
            signal("STOP", sub.pid());
            byte[] b = new byte[200];
            MemorySegment bs = MemorySegment.ofArray(b);
            long seq = 0;
            try {
                while (true) {
                    ChannelPeer.fill(bs, 0, 200, 0, seq);
                    if (!out.send(0, b, Duration.ofMillis(300))) {
                        break; // held back by the stopped subscriber
                    }
                    seq++;
                    assertTrue(seq < count, "never held back by the stopped subscriber");
                }
                ChannelStats.Participant p = ch.stats().participants().stream()
                        .filter(x -> x.role().equals("subscriber")).findFirst().orElseThrow();
                assertTrue(p.alive(), "stopped is alive");
                assertEquals("active", p.state(), "not dropped");
            } finally {
                signal("CONT", sub.pid());
            }
            for (; seq < count; seq++) {
                ChannelPeer.fill(bs, 0, 200, 0, seq);
                assertTrue(out.send(0, b, Duration.ofSeconds(10)), "held back at " + seq);
            }
            ChannelMultiProcessTest.expectOk(sub, count);
        }
    }
}
