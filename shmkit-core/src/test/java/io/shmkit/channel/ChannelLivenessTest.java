package io.shmkit.channel;

import io.shmkit.SegmentOptions;
import io.shmkit.internal.layout.SlotDescriptor;
import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Liveness decisions about participant slots: pid and start time together name a process. */
class ChannelLivenessTest {

    private static final ChannelOptions OPTIONS = ChannelOptions.defaults().capacity(64 * 1024);
    private static final Path NS_LAST_PID = Path.of("/proc/sys/kernel/ns_last_pid");

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    /**
     * Starts a consumer peer whose pid is {@code pid} (the kernel hands out the pid after the one
     * written to ns_last_pid; other forks may come first, hence the attempts); null when it never
     * got that pid.
     */
    private static ChildProcess consumerWithPid(String name, long pid) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            Files.writeString(NS_LAST_PID, Long.toString(pid - 1));
            ChildProcess child = ChildProcess.java(ChannelPeer.class, "consume", name, "ONE_TO_ONE", "1", "1",
                    "consumer");
            if (child.pid() == pid) {
                return child;
            }
            child.close();
        }
        return null;
    }

    /**
     * A consumer is killed and its pid comes back in the process that takes its place (as after a
     * container restart, or a pid reused by chance): that process must take the dead one's slot,
     * not take it for itself and refuse.
     */
    @Test
    void aProcessThatGotTheDeadConsumersPidTakesItsSlot() throws Exception {
        assumeTrue(Files.isWritable(NS_LAST_PID), "needs to choose the next pid (root)");
        String name = names.unique("samepid");
        try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, OPTIONS);
             ChannelProducer out = ch.producer()) {
            long pid;
            try (ChildProcess first = ChildProcess.java(ChannelPeer.class, "consume", name, "ONE_TO_ONE", "1", "1",
                    "consumer")) {
                first.awaitPrefix("JOINED");
                pid = first.pid();
                first.kill();
            }
            byte[] b = new byte[64];
            ChannelPeer.fill(java.lang.foreign.MemorySegment.ofArray(b), 0, 64, 0, 0);
            assertTrue(out.offer(0, b));
            try (ChildProcess second = consumerWithPid(name, pid)) {
                assumeTrue(second != null, "could not start a process with pid " + pid);
                assertEquals("OK 1", second.await(l -> l.startsWith("OK") || l.startsWith("BAD"), "verdict"),
                        second.stderr());
                second.waitForSuccess();
            }
        }
    }

    /**
     * The same without choosing pids, and on the producer's side: a subscriber slot that an earlier
     * process with this very pid left ACTIVE (start time not ours) stops holding the producer back,
     * and stat shows it dead.
     */
    @Test
    void aSubscriberLeftByAnEarlierProcessWithThisPidStopsHoldingTheProducerBack() throws Exception {
        String name = names.unique("samepidsub");
        try (Channel ch = Channel.create(name, ChannelKind.PUBLISH_SUBSCRIBE, OPTIONS);
             ChannelProducer out = ch.producer()) {
            try (ChannelConsumer sub = ch.subscriber("gone")) {
                assertEquals(0, sub.position());
            }
            // What such a process leaves: ACTIVE, our pid, its own start time.
            long slot = ch.consumerSlot(0);
            ch.header.set(ValueLayout.JAVA_LONG, slot + SlotDescriptor.START_TIME_OFFSET, ch.startTime - 1);
            ch.header.set(ValueLayout.JAVA_LONG, slot + SlotDescriptor.OWNER_OFFSET,
                    SlotDescriptor.owner(SlotDescriptor.ACTIVE, ch.pid));
            assertFalse(subscriber(ch).alive(), "stat: not this process, and gone");
            byte[] b = new byte[1000];
            for (int i = 0; i < 3 * OPTIONS.capacity() / b.length; i++) {
                assertTrue(out.send(1, b, Duration.ofSeconds(5)), "held back by a dead subscriber at message " + i);
            }
            assertEquals("dead", subscriber(ch).state());
        }
    }

    private static ChannelStats.Participant subscriber(Channel ch) {
        return ch.stats().participants().stream().filter(p -> p.role().equals("subscriber")).findFirst().orElseThrow();
    }

    /**
     * A process that may not read /proc/PID/stat of the consumer (another user's process, /proc
     * mounted with hidepid) must not take that live consumer for dead and join as a second one.
     */
    @Test
    void aLiveConsumerThatAnotherUserCannotInspectIsNotTakenForDead() throws Exception {
        assumeTrue(ChildProcess.mayRunAsNobodyUnderHidepid(), "needs root, unshare and setpriv to run a peer as nobody under hidepid");
        String name = names.unique("hidden");
        ChannelOptions shared = OPTIONS.segmentOptions(SegmentOptions.defaults().permissions(0666));
        try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, shared);
             ChannelConsumer in = ch.consumer()) {
            assertEquals(0, in.position());
            try (ChildProcess other = ChildProcess.javaAsNobodyUnderHidepid(ForeignJoiner.class, name)) {
                String verdict;
                try {
                    verdict = other.await(l -> l.startsWith("JOINED") || l.startsWith("REFUSED"), "join verdict");
                } catch (AssertionError noVerdict) {
                    // Root without the right to mount (a container without CAP_SYS_ADMIN), or a checkout
                    // that "nobody" cannot read: the peer never ran, which says nothing about shmkit.
                    other.waitFor();
                    assumeTrue(false, "could not run a peer as nobody under hidepid here: " + other.stderr());
                    return;
                }
                assertTrue(verdict.startsWith("REFUSED"), "a second consumer joined beside the live one: " + verdict
                        + other.stderr());
                other.waitForSuccess();
            }
        }
    }

    /** Tries to join a channel as its consumer, as another user: prints JOINED or REFUSED why. */
    public static final class ForeignJoiner {
        public static void main(String[] args) throws Exception {
            ChannelOptions options = ChannelOptions.defaults().segmentOptions(SegmentOptions.defaults().allowForeignOwner());
            try (Channel ch = Channel.open(args[0], options)) {
                try (ChannelConsumer in = ch.consumer()) {
                    System.out.println("JOINED at " + in.position());
                } catch (IllegalStateException refused) {
                    System.out.println("REFUSED " + refused.getMessage());
                }
            }
        }
    }
}
