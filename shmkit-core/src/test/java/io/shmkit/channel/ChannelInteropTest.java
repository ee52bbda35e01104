package io.shmkit.channel;

import io.shmkit.Segment;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import io.shmkit.internal.layout.ChannelDescriptor;
import io.shmkit.internal.layout.RecordDescriptor;
import io.shmkit.internal.layout.SlotDescriptor;
import io.shmkit.internal.os.OsBackend;
import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.NativePeers;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shipped C header ({@code native/include/shmkit/channel.h}, through the example
 * {@code native/examples/channel_consumer.c}) and Python module ({@code native/python/shmkit_channel.py})
 * as consumers and subscribers of channels that Java produces into: every message, in order, intact,
 * across many wraps of small rings, for each kind; consumers of different languages taking turns;
 * dead producers and subscribers; and segments that are not channels. Each peer is a real process.
 */
class ChannelInteropTest {

    /**
     * The languages that read; C twice, as users build it and with sanitizers (ASan, UBSan, LSan:
     * any report fails the run); Python twice, with real atomics and in its documented plain mode.
     */
    enum Peer {
        C, C_SANITIZED, PYTHON, PYTHON_PLAIN;

        boolean isC() {
            return this == C || this == C_SANITIZED;
        }
    }

    private static final long TIMEOUT_MS = 60_000;
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path buildDir;
    private static List<String> cConsumer;
    private static List<String> sanitizedConsumer;

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    /**
     * The C example as every C test runs it. {@code -Dshmkit.interop.cflags="..."} adds compiler flags,
     * to run them all on another build, e.g. {@link #SANITIZE}.
     */
    private static synchronized List<String> cConsumer() throws IOException {
        if (cConsumer == null) {
            List<String> flags = new ArrayList<>(List.of("-Wextra", "-I" + NativePeers.repoPath("native/include")));
            String extra = System.getProperty("shmkit.interop.cflags", "").strip();
            if (!extra.isEmpty()) {
                flags.addAll(List.of(extra.split("\\s+")));
            }
            cConsumer = NativePeers.cFromRepo("native/examples/channel_consumer.c", buildDir,
                    flags.toArray(String[]::new));
        }
        return cConsumer;
    }

    /** AddressSanitizer and UndefinedBehaviorSanitizer, any report ending the program with an error. */
    static final String SANITIZE = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g";

    /** The C example built with {@link #SANITIZE}; skips the test where the sanitizers cannot build or run. */
    private static synchronized List<String> sanitizedConsumer() throws IOException {
        if (sanitizedConsumer == null) {
            Path dir = Files.createDirectories(buildDir.resolve("sanitized"));
            List<String> flags = new ArrayList<>(List.of("-Wextra", "-I" + NativePeers.repoPath("native/include")));
            flags.addAll(List.of(SANITIZE.split(" ")));
            List<String> built;
            try {
                built = NativePeers.cFromRepo("native/examples/channel_consumer.c", dir, flags.toArray(String[]::new));
            } catch (AssertionError e) {
                assumeTrue(!e.getMessage().contains("san"), "no sanitizer runtime here: " + e.getMessage());
                throw e;
            }
            try (ChildProcess probe = ChildProcess.start(built)) {
                int code = probe.waitFor();
                assumeTrue(code == 2, "the sanitized build cannot run here (exit " + code + "): " + probe.stderr());
            }
            sanitizedConsumer = built;
        }
        return sanitizedConsumer;
    }

    /** What a C peer's sanitizers reported, if anything (a report also makes its exit code nonzero). */
    private static void assertNoSanitizerReport(ChildProcess p) {
        assertFalse(p.stderr().contains("Sanitizer") || p.stderr().contains("runtime error"), p.stderr());
    }

    /**
     * The command that runs a peer: {@code --count}, a timeout, and {@code subscriber} (null: the
     * consumer; "": an anonymous subscriber; else a named one).
     */
    private static List<String> command(Peer peer, String channel, long count, String subscriber) throws IOException {
        List<String> cmd = new ArrayList<>(peer == Peer.C ? cConsumer()
                : peer == Peer.C_SANITIZED ? sanitizedConsumer()
                : NativePeers.pythonFromRepo("native/python/shmkit_channel.py"));
        cmd.addAll(List.of(channel, "--count", Long.toString(count)));
        if (peer.isC()) {
            cmd.addAll(List.of("--timeout-ms", Long.toString(TIMEOUT_MS)));
        } else {
            cmd.addAll(List.of("--timeout", Long.toString(TIMEOUT_MS / 1000)));
        }
        if (subscriber != null) {
            cmd.add("--subscriber");
            if (!subscriber.isEmpty()) {
                cmd.add(subscriber);
            }
        }
        if (peer == Peer.PYTHON_PLAIN) {
            cmd.addAll(List.of("--atomics", "plain"));
        }
        return cmd;
    }

    private static ChildProcess start(Peer peer, String channel, long count, String subscriber) throws IOException {
        return ChildProcess.start(command(peer, channel, count, subscriber));
    }

    /** Reads {@code count} printed messages and checks each as it comes. */
    private static void readAll(ChildProcess p, InteropMessages.Checker checker, long count) {
        for (long i = 0; i < count; i++) {
            checker.check(p.await(l -> true, "message " + i + " of " + count));
        }
    }

    private static void send(ChannelProducer out, int producer, long from, long to) throws InterruptedException {
        for (long seq = from; seq < to; seq++) {
            byte[] b = InteropMessages.payload(producer, seq, out.maxMessageLength());
            assertTrue(out.send(producer, b, SEND_TIMEOUT), "no space for 30 s at message " + seq);
        }
    }

    /** Waits until a peer process is an active, live participant, as the Java side sees it. */
    private static ChannelStats.Participant awaitParticipant(Channel ch, ChildProcess p) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (System.nanoTime() - deadline < 0) {
            for (ChannelStats.Participant q : ch.stats().participants()) {
                if (q.pid() == p.pid() && q.state().equals("active")) {
                    return q;
                }
            }
            assertTrue(p.isAlive(), "the peer exited before joining: " + p.stderr());
            Thread.onSpinWait();
        }
        throw new AssertionError("the peer did not join within " + TIMEOUT_MS + " ms: " + p.stderr());
    }

    // ---------------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Peer.class)
    void oneToOneDeliversEveryMessageInOrderAcrossManyWraps(Peer peer) throws Exception {
        int n = 20_000;
        try (Channel ch = Channel.create(names.unique("o2o"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer();
             ChildProcess p = start(peer, ch.name(), n, null)) {
            send(out, 0, 0, n);
            InteropMessages.Checker checker = new InteropMessages.Checker(peer.name(), 1, ch.maxMessageLength());
            readAll(p, checker, n);
            p.waitForSuccess();
            ChannelStats stats = ch.stats();
            assertTrue(stats.tail() > 100L * ch.capacity(), "wrapped many times: tail " + stats.tail());
            ChannelStats.Participant consumer = stats.participants().stream()
                    .filter(q -> q.role().equals("consumer")).findFirst().orElseThrow();
            assertEquals("closed", consumer.state(), "the peer left its slot cleanly");
            assertEquals(n, consumer.messages());
            assertEquals(stats.tail(), consumer.position(), "it committed every message");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "C_SANITIZED", "PYTHON"})
    void manyToOneFromThreadsAndAnotherProcess(Peer peer) throws Exception {
        int threads = 3;
        int perProducer = 5000;
        int producers = threads + 1;
        try (Channel ch = Channel.create(names.unique("m2o"), ChannelKind.MANY_TO_ONE,
                ChannelOptions.defaults().capacity(8192).maxProducers(8));
             ChildProcess p = start(peer, ch.name(), (long) producers * perProducer, null);
             ChildProcess other = ChildProcess.java(ChannelProducerPeer.class, "send", ch.name(),
                     Integer.toString(threads), Integer.toString(perProducer))) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                senders.add(Thread.ofPlatform().start(() -> {
                    try (ChannelProducer out = ch.producer()) {
                        send(out, id, 0, perProducer);
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                }));
            }
            InteropMessages.Checker checker =
                    new InteropMessages.Checker(peer.name(), producers, ch.maxMessageLength());
            try {
                readAll(p, checker, (long) producers * perProducer);
            } catch (AssertionError e) {
                throw new AssertionError("the consumer stalled; the producer process said: " + other.stderr()
                        + "; the producer threads: " + failure.get(), e);
            }
            p.waitForSuccess();
            other.awaitPrefix("SENT");
            other.waitForSuccess();
            for (Thread t : senders) {
                t.join(TIMEOUT_MS);
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            for (int i = 0; i < producers; i++) {
                assertEquals(perProducer, checker.next(i), "every message of producer " + i);
            }
            try (Segment s = SharedMemory.open(ch.name()); View v = s.map()) {
                long slot = SlotDescriptor.slotOffset(8);
                long position = v.memory().get(ValueLayout.JAVA_LONG, slot + SlotDescriptor.POSITION_OFFSET);
                long retiring = v.memory().get(ValueLayout.JAVA_LONG, slot + SlotDescriptor.RETIRING_OFFSET);
                int length = (int) retiring;
                assertTrue(length >= 8 && length % 8 == 0, "the peer says which record it zeroed last: " + retiring);
                assertTrue(SlotDescriptor.retiringAt(retiring, position - length), "the one before its position");
            }
        }
    }

    @Test
    void publishSubscribeToCPythonAndJavaSubscribersAtOnce() throws Exception {
        int n = 20_000;
        try (Channel ch = Channel.create(names.unique("pubsub"), ChannelKind.PUBLISH_SUBSCRIBE,
                ChannelOptions.defaults().capacity(8192).maxSubscribers(4));
             ChannelProducer out = ch.producer();
             ChannelConsumer java = ch.subscriber("java");
             ChildProcess c = start(Peer.C, ch.name(), n, "");
             ChildProcess python = start(Peer.PYTHON, ch.name(), n, "py")) {
            // Subscribers see what is published after they join: wait until both have.
            assertTrue(awaitParticipant(ch, c).alive(), "the C subscriber's pid and start time identify it");
            ChannelStats.Participant py = awaitParticipant(ch, python);
            assertTrue(py.alive(), "the Python subscriber's pid and start time identify it");
            assertEquals("py", py.subscriberName());
            InteropMessages.Checker javaChecker = new InteropMessages.Checker("Java", 1, ch.maxMessageLength());
            long sent = 0;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            // One thread produces and polls the Java subscriber, so the producer never waits on it.
            while (javaChecker.total() < n) {
                assertTrue(System.nanoTime() - deadline < 0, "timed out: sent " + sent + ", Java read "
                        + javaChecker.total());
                if (sent < n && out.offer(0, InteropMessages.payload(0, sent, out.maxMessageLength()))) {
                    sent++;
                }
                java.poll(m -> javaChecker.check(m.typeId(), m.bytes()), 16);
            }
            InteropMessages.Checker cChecker = new InteropMessages.Checker("C", 1, ch.maxMessageLength());
            InteropMessages.Checker pyChecker = new InteropMessages.Checker("Python", 1, ch.maxMessageLength());
            readAll(c, cChecker, n);
            readAll(python, pyChecker, n);
            c.waitForSuccess();
            python.waitForSuccess();
            assertTrue(ch.stats().tail() > 100L * ch.capacity(), "wrapped many times");
        }
    }

    /**
     * C++ programs include the header as it is (native/include/shmkit/channel.h compiles as C++ with
     * -Wall -Wextra -Werror): a consumer across many wraps, and a named subscriber, each reading every
     * message a Java producer sends.
     */
    @ParameterizedTest
    @ValueSource(strings = {"c++17", "c++20"})
    void cxxProgramsIncludeTheHeaderAndReadEveryMessage(String std) throws Exception {
        List<String> program = NativePeers.cxx("channel_consumer.cpp", buildDir, std,
                "-I" + NativePeers.repoPath("native/include"));
        int n = 10_000;
        try (Channel ch = Channel.create(names.unique("cxx"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer();
             ChildProcess p = ChildProcess.start(withArgs(program, ch.name(), Integer.toString(n)))) {
            send(out, 0, 0, n);
            readAll(p, new InteropMessages.Checker(std, 1, ch.maxMessageLength()), n);
            p.waitForSuccess();
            ChannelStats stats = ch.stats();
            assertTrue(stats.tail() > 50L * ch.capacity(), "wrapped many times: tail " + stats.tail());
            ChannelStats.Participant consumer = stats.participants().stream()
                    .filter(q -> q.role().equals("consumer")).findFirst().orElseThrow();
            assertEquals("closed", consumer.state(), "the C++ consumer left its slot cleanly");
            assertEquals(n, consumer.messages());
            assertEquals(stats.tail(), consumer.position());
        }
        try (Channel ch = Channel.create(names.unique("cxxsub"), ChannelKind.PUBLISH_SUBSCRIBE,
                ChannelOptions.defaults().capacity(4096).maxSubscribers(2));
             ChannelProducer out = ch.producer();
             ChildProcess p = ChildProcess.start(withArgs(program, ch.name(), Integer.toString(n), "cxx"))) {
            ChannelStats.Participant joined = awaitParticipant(ch, p);
            assertTrue(joined.alive(), "the C++ subscriber's pid and start time identify it");
            assertEquals("cxx", joined.subscriberName());
            send(out, 0, 0, n);
            readAll(p, new InteropMessages.Checker(std + " subscriber", 1, ch.maxMessageLength()), n);
            p.waitForSuccess();
        }
    }

    private static List<String> withArgs(List<String> program, String... args) {
        List<String> cmd = new ArrayList<>(program);
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void consumersOfThreeLanguagesTakeTurnsWithoutLosingOrRepeatingAMessage() throws Exception {
        int share = 2000;
        try (Channel ch = Channel.create(names.unique("turns"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096))) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread sender = Thread.ofPlatform().start(() -> {
                try (ChannelProducer out = ch.producer()) {
                    send(out, 0, 0, 3L * share);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            InteropMessages.Checker checker = new InteropMessages.Checker("turns", 1, ch.maxMessageLength());
            for (Peer peer : List.of(Peer.C, Peer.PYTHON)) {
                try (ChildProcess p = start(peer, ch.name(), share, null)) {
                    readAll(p, checker, share);
                    p.waitForSuccess();
                }
            }
            try (ChannelConsumer in = ch.consumer()) {
                while (checker.total() < 3L * share) {
                    ReceivedMessage m = in.receive(SEND_TIMEOUT);
                    assertTrue(m != null, "the Java consumer resumed where Python stopped, at " + checker.total());
                    checker.check(m.typeId(), m.payload());
                }
            }
            sender.join(TIMEOUT_MS);
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            ChannelStats.Participant consumer = ch.stats().participants().stream()
                    .filter(q -> q.role().equals("consumer")).findFirst().orElseThrow();
            assertEquals(3L * share, consumer.messages(), "the slot counts the messages of all three");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "C_SANITIZED", "PYTHON", "PYTHON_PLAIN"})
    void aProducerKilledMidRecordIsSkipped(Peer peer) throws Exception {
        int n = 2000;
        try (Channel ch = Channel.create(names.unique("deadprod"), ChannelKind.MANY_TO_ONE,
                ChannelOptions.defaults().capacity(8192).maxProducers(4))) {
            try (ChildProcess dying = ChildProcess.java(ChannelProducerPeer.class, "claim", ch.name())) {
                dying.awaitPrefix("CLAIMED");
                dying.kill();
            }
            try (ChildProcess p = start(peer, ch.name(), n, null); ChannelProducer out = ch.producer()) {
                send(out, 0, 0, n);
                InteropMessages.Checker checker = new InteropMessages.Checker(peer.name(), 1, ch.maxMessageLength());
                readAll(p, checker, n);
                p.waitForSuccess();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "C_SANITIZED", "PYTHON"})
    void aManyToOneConsumerTakesOverFromOneKilledWhileZeroingARecord(Peer peer) throws Exception {
        String name = names.unique("retiring");
        try (Channel ch = Channel.create(name, ChannelKind.MANY_TO_ONE,
                ChannelOptions.defaults().capacity(4096).maxProducers(2));
             ChannelProducer out = ch.producer()) {
            assertTrue(out.offer(1, "consumed, then zeroed".getBytes(StandardCharsets.US_ASCII)));
            assertTrue(out.offer(2, "next".getBytes(StandardCharsets.US_ASCII)));
            // What a consumer leaves when it dies after zeroing the first record (32 bytes at
            // position 0) but before committing its position.
            try (Segment s = SharedMemory.open(name); View v = s.map()) {
                v.memory().set(ValueLayout.JAVA_LONG, SlotDescriptor.slotOffset(2) + SlotDescriptor.RETIRING_OFFSET,
                        SlotDescriptor.retiring(0, 32));
                v.memory().asSlice(v.memory().get(ValueLayout.JAVA_LONG, ChannelDescriptor.DATA_OFFSET_OFFSET), 32)
                        .fill((byte) 0);
            }
            try (ChildProcess p = start(peer, name, 1, null)) {
                assertEquals("2\t4\tnext", p.await(l -> true, "the message after the zeroed one"));
                p.waitForSuccess();
            }
        }
    }

    /**
     * A Python program may catch KeyboardInterrupt and go on with the same Channel. Raised by SIGINT
     * after a many-to-one record was consumed and zeroed but before its position was committed, it
     * used to leave the Channel before a zeroed record the tail is past: no message came after it,
     * and after the stuck-record timeout the channel was reported corrupted.
     */
    @Test
    void aPythonConsumerInterruptedBetweenZeroingAndCommittingGoesOn() throws Exception {
        try (Channel ch = Channel.create(names.unique("interrupted"), ChannelKind.MANY_TO_ONE,
                ChannelOptions.defaults().capacity(4096).maxProducers(2));
             ChannelProducer out = ch.producer()) {
            assertTrue(out.offer(1, "one".getBytes(StandardCharsets.UTF_8)));
            assertTrue(out.offer(2, "two".getBytes(StandardCharsets.UTF_8)));
            List<String> cmd = new ArrayList<>(NativePeers.python("interrupted_poll.py", buildDir));
            cmd.addAll(List.of(NativePeers.repoPath("native/python").toString(), ch.name(), "2"));
            try (ChildProcess p = ChildProcess.start(cmd)) {
                assertEquals(List.of("INTERRUPTED", "1\t3\tone", "2\t3\ttwo", "POSITION 32"), p.remainingOutput(),
                        "each message once, and the position past both");
            }
            ChannelStats.Participant consumer = ch.stats().participants().stream()
                    .filter(q -> q.role().equals("consumer")).findFirst().orElseThrow();
            assertEquals(32, consumer.position());
            assertEquals(2, consumer.messages());
        }
    }

    /**
     * A Java single producer that joined the process-wide barriers skips its store-load fence after
     * a commit; a consumer going to sleep must then issue the barrier itself (docs/channels.md,
     * "Waiting and wake-ups"), or the producer may miss it in "consumers waiting" and leave it
     * asleep for a whole slice. Seen through strace: the barrier call is made before sleeping.
     */
    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void aSleepingConsumerIssuesTheProcessWideBarrier(Peer peer) throws Exception {
        assumeTrue(new File("/usr/bin/strace").canExecute(), "needs strace");
        Path trace = buildDir.resolve("membarrier-" + peer + ".trace");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/strace", "-f", "-qq", "-e", "trace=membarrier",
                "-o", trace.toString()));
        long waiting = ChannelDescriptor.CONSUMERS_WAITING_OFFSET;
        try (Channel ch = Channel.create(names.unique("barrier"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer()) {
            cmd.addAll(command(peer, ch.name(), 1, null));
            try (ChildProcess p = ChildProcess.start(cmd)) {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
                while (ch.header.get(ValueLayout.JAVA_INT, waiting) == 0) {
                    if (!p.isAlive()) {
                        p.waitFor();
                        assumeTrue(false, "could not trace the consumer here: " + p.stderr());
                    }
                    assertTrue(System.nanoTime() - deadline < 0, "the consumer never went to sleep");
                    Thread.onSpinWait();
                }
                assertTrue(out.offer(1, "woken".getBytes(StandardCharsets.UTF_8)));
                assertEquals("1\t5\twoken", p.await(l -> true, "the message"));
                p.waitForSuccess();
            }
        }
        String calls = Files.readString(trace);
        assertTrue(calls.contains("membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED"),
                "no process-wide barrier before sleeping; strace saw:\n" + calls);
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void aConsumerTakingOverFromOneKilledAsleepLeavesNoWaiterBehind(Peer peer) throws Exception {
        // Left at 1, the count would make every later commit wake nobody with a system call.
        long waiting = ChannelDescriptor.CONSUMERS_WAITING_OFFSET;
        try (Channel ch = Channel.create(names.unique("deadwaiter"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer()) {
            try (ChildProcess sleeper = start(peer, ch.name(), 1, null)) {
                awaitParticipant(ch, sleeper);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
                while (ch.header.get(ValueLayout.JAVA_INT, waiting) == 0) {
                    assertTrue(System.nanoTime() - deadline < 0, "the consumer never went to sleep");
                    Thread.onSpinWait();
                }
                sleeper.kill();
            }
            assertEquals(1, ch.header.get(ValueLayout.JAVA_INT, waiting), "left by the killed one");
            try (ChildProcess next = start(peer, ch.name(), 1, null)) {
                awaitParticipant(ch, next);
                assertTrue(out.offer(1, "after".getBytes(StandardCharsets.UTF_8)));
                assertEquals("1\t5\tafter", next.await(l -> true, "the message"));
                next.waitForSuccess();
            }
            assertEquals(0, ch.header.get(ValueLayout.JAVA_INT, waiting));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void aKilledSubscriberStopsHoldingTheProducerBack(Peer peer) throws Exception {
        try (Channel ch = Channel.create(names.unique("deadsub"), ChannelKind.PUBLISH_SUBSCRIBE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer()) {
            try (ChildProcess p = start(peer, ch.name(), 1_000_000, "")) {
                awaitParticipant(ch, p);
                p.kill();
            }
            // Ten rings' worth: impossible while a subscriber that reads nothing is taken for alive.
            send(out, 0, 0, 10L * ch.capacity() / 64);
            ChannelStats.Participant gone = ch.stats().participants().stream()
                    .filter(q -> q.role().equals("subscriber")).findFirst().orElseThrow();
            assertEquals("dead", gone.state());
            assertFalse(gone.alive());
        }
    }

    /**
     * A C program may end main() with pthread_exit and run on in its other threads; /proc then shows
     * its first thread's state, Z. A consumer slot held by such a process is a live one: no consumer
     * of any language may take it over. (The slot is written by hand, as that process would have.)
     */
    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void aConsumerWhoseFirstThreadEndedIsNotTakenForDead(Peer peer) throws Exception {
        List<String> program = NativePeers.c("first_thread_exits.c", buildDir, "-pthread");
        try (Channel ch = Channel.create(names.unique("firstthread"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer();
             ChildProcess holder = ChildProcess.start(program)) {
            int pid = Integer.parseInt(holder.awaitPrefix("PID "));
            long start = OsBackend.current().processStartTime(pid);
            assertTrue(start >= 0, "start time of " + pid + ": " + start);
            long slot = ch.consumerSlot(0);
            ch.header.set(ValueLayout.JAVA_LONG, slot + SlotDescriptor.START_TIME_OFFSET, start);
            ch.header.set(ValueLayout.JAVA_LONG, slot + SlotDescriptor.OWNER_OFFSET,
                    SlotDescriptor.owner(SlotDescriptor.ACTIVE, pid));
            holder.send("go");
            holder.awaitPrefix("GONE");
            assertTrue(out.offer(1, "mine".getBytes(StandardCharsets.UTF_8)));

            try (ChildProcess other = start(peer, ch.name(), 1, null)) {
                int code = other.waitFor();
                assertTrue(code != 0 && other.stderr().contains("live process " + pid),
                        "a second consumer beside a live one: exit code " + code + ", stderr: " + other.stderr());
            }
            IllegalStateException javaToo = assertThrows(IllegalStateException.class, ch::consumer);
            assertTrue(javaToo.getMessage().contains("live process " + pid), javaToo.getMessage());
            assertEquals(0, ch.header.get(ValueLayout.JAVA_LONG, slot + SlotDescriptor.POSITION_OFFSET),
                    "the message is still there for the slot's owner");
        }
    }

    /**
     * The kernel adds the reader's boot-time offset to the start times in /proc: a consumer in a
     * time namespace records its start time less that offset, as Java reads it from outside, so
     * Java takes it for the live process it is (neither a second consumer nor stat takes it for dead).
     */
    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void aConsumerInATimeNamespaceIsAliveToJava(Peer peer) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("unshare", "--user", "--map-root-user", "--time", "--boottime", "86400"));
        try (Channel ch = Channel.create(names.unique("timens"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer()) {
            cmd.addAll(command(peer, ch.name(), 1, null));
            try (ChildProcess p = ChildProcess.start(cmd)) {
                ChannelStats.Participant joined;
                try {
                    joined = awaitParticipant(ch, p);
                } catch (AssertionError notJoined) {
                    p.waitFor();
                    assumeTrue(false, "could not run the consumer in a time namespace here: " + p.stderr());
                    return;
                }
                assertTrue(joined.alive(), "stat took the live consumer in a time namespace for dead: " + joined);
                IllegalStateException second = assertThrows(IllegalStateException.class, ch::consumer,
                        "a second consumer beside the live one in a time namespace");
                assertTrue(second.getMessage().contains("live process " + p.pid()), second.getMessage());
                assertTrue(out.offer(1, "hello".getBytes(StandardCharsets.UTF_8)));
                assertEquals("1\t5\thello", p.await(l -> true, "the message"));
                p.waitForSuccess();
            }
        }
    }

    /**
     * Names are taken as Java takes them (docs/segments.md, "Valid names"): Windows' prefixes
     * Local\ and Global\ (any case) are removed, and names Java refuses are refused as invalid
     * (exit code 2) rather than looked for.
     */
    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void namesAreTakenAsJavaTakesThem(Peer peer) throws Exception {
        try (Channel ch = Channel.create(names.unique("prefixed"), ChannelKind.ONE_TO_ONE,
                ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer()) {
            assertTrue(out.offer(1, "hello".getBytes(StandardCharsets.UTF_8)));
            assertTrue(out.offer(2, "again".getBytes(StandardCharsets.UTF_8)));
            Map<String, String> expected = new LinkedHashMap<>();
            expected.put("Local\\" + ch.name(), "1\t5\thello");
            expected.put("GLOBAL\\" + ch.name(), "2\t5\tagain");
            for (Map.Entry<String, String> e : expected.entrySet()) {
                try (ChildProcess p = start(peer, e.getKey(), 1, null)) {
                    assertEquals(e.getValue(), p.await(l -> true, "the message, through " + e.getKey()));
                    p.waitForSuccess();
                }
            }
        }
        for (String bad : List.of("a..b", "a\\b", "tab\there", ".hidden")) {
            assertThrows(IllegalArgumentException.class, () -> SharedMemory.open(bad), "Java refuses " + bad);
            try (ChildProcess p = start(peer, bad, 1, null)) {
                assertEquals(2, p.waitFor(), "exit code for \"" + bad + "\", stderr: " + p.stderr());
                assertTrue(p.stderr().contains("invalid channel name"), p.stderr());
                assertFalse(p.stderr().contains("Traceback"), p.stderr());
            }
        }
    }

    /**
     * A channel's file truncated under a waiting peer (to nothing, so the header's page is gone too):
     * reading the missing pages would end it with SIGBUS (Python cannot catch it: the interpreter
     * dies). Waiting checks the size first, so the peer says what happened, as Java's consumer
     * does, and leaves without touching the slot that is gone.
     */
    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "C_SANITIZED", "PYTHON", "PYTHON_PLAIN"})
    void aChannelTruncatedUnderAWaitingPeerIsReportedNotABusError(Peer peer) throws Exception {
        String name = names.unique("truncated");
        try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, ChannelOptions.defaults().capacity(4096));
             ChannelProducer out = ch.producer();
             ChildProcess p = start(peer, name, 2, null)) {
            assertTrue(out.offer(1, "first".getBytes(StandardCharsets.UTF_8)));
            assertEquals("1\t5\tfirst", p.await(l -> true, "the first message"));
            if (peer == Peer.PYTHON_PLAIN) {
                // It waits in 1 ms sleeps, registered nowhere: wait until the kernel shows it asleep.
                awaitAsleep(p);
            } else {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
                while (ch.header.get(ValueLayout.JAVA_INT, ChannelDescriptor.CONSUMERS_WAITING_OFFSET) == 0) {
                    assertTrue(System.nanoTime() - deadline < 0, "the peer never went to sleep");
                    Thread.onSpinWait();
                }
            }
            Path file = Path.of("/dev/shm", name);
            long size = Files.size(file);
            try (FileChannel f = FileChannel.open(file, StandardOpenOption.WRITE)) {
                f.truncate(0);
                try {
                    int code = p.waitFor();
                    assertEquals(1, code, "exit code (135: SIGBUS), stderr: " + p.stderr());
                    assertTrue(p.stderr().contains("channel \"" + name + "\" was truncated under this process"),
                            p.stderr());
                    assertFalse(p.stderr().contains("Traceback"), p.stderr());
                    assertNoSanitizerReport(p);
                } finally {
                    f.write(ByteBuffer.allocate(1), size - 1); // back to its size (zeros), for Java to close
                }
            }
        }
    }

    /** Waits, bounded, until a thread of the peer sleeps in nanosleep(2) (its /proc wait channel says so). */
    private static void awaitAsleep(ChildProcess p) throws IOException {
        Path tasks = Path.of("/proc/" + p.pid() + "/task");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (true) {
            try (var threads = Files.list(tasks)) {
                for (Path task : (Iterable<Path>) threads::iterator) {
                    try {
                        if (Files.readString(task.resolve("wchan")).contains("nanosleep")) {
                            return;
                        }
                    } catch (IOException threadGone) {
                        // ended meanwhile: look at the others
                    }
                }
            }
            assertTrue(System.nanoTime() - deadline < 0, "the peer never went to sleep: " + p.stderr());
            Thread.onSpinWait();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "C_SANITIZED", "PYTHON"})
    void segmentsThatAreNotChannelsAreRefusedClearly(Peer peer) throws Exception {
        Map<String, String> expected = new HashMap<>();
        String missing = names.unique("missing");
        expected.put(missing, "no shared memory segment named \"" + missing + "\"");
        String plain = names.unique("plain");
        String tiny = names.unique("tiny");
        String future = names.unique("future");
        String broken = names.unique("broken");
        try (Segment p = SharedMemory.create(plain, 65536); View v = p.map();
             Segment t = SharedMemory.create(tiny, 100);
             Channel f = Channel.create(future, ChannelKind.ONE_TO_ONE, ChannelOptions.defaults().capacity(4096));
             Segment fs = SharedMemory.open(future); View fv = fs.map();
             Channel b = Channel.create(broken, ChannelKind.MANY_TO_ONE, ChannelOptions.defaults().capacity(4096));
             Segment bs = SharedMemory.open(broken); View bv = bs.map()) {
            v.putString(0, "just some text, no channel here");
            assertEquals(100, t.size());
            assertEquals(ChannelKind.ONE_TO_ONE, f.kind(), "Java created a sound channel; then it was changed");
            assertEquals(ChannelKind.MANY_TO_ONE, b.kind());
            fv.memory().set(ValueLayout.JAVA_INT, ChannelDescriptor.VERSION_OFFSET, 2);
            bv.memory().set(ValueLayout.JAVA_LONG, ChannelDescriptor.CAPACITY_OFFSET, 12345);
            expected.put(plain, "segment \"" + plain + "\" is not a channel: magic at offset 0 is 0x");
            expected.put(tiny, "segment \"" + tiny + "\" is not a channel: it is 100 bytes, smaller than a channel");
            expected.put(future, "channel \"" + future + "\" has layout version 2");
            expected.put(broken, "channel \"" + broken + "\" is corrupted: capacity");
            for (Map.Entry<String, String> e : expected.entrySet()) {
                try (ChildProcess proc = start(peer, e.getKey(), 1, null)) {
                    int code = proc.waitFor();
                    assertEquals(e.getKey().equals(missing) ? 3 : 1, code, "exit code for " + e.getKey()
                            + ", stderr: " + proc.stderr());
                    assertTrue(proc.stderr().contains(e.getValue()), "for " + e.getKey() + " expected \"" + e.getValue()
                            + "\" in: " + proc.stderr());
                    assertFalse(proc.stderr().contains("Traceback"), proc.stderr());
                    assertNoSanitizerReport(proc);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "C_SANITIZED", "PYTHON"})
    void corruptedRecordsAndPositionsAreReportedNotWaitedOn(Peer peer) throws Exception {
        // Each is a state no writer leaves: a reader that waited on it would wait for ever, one that
        // went on would read from the middle of records. As the Java consumer does, the peers stop
        // with a clear message (exit code 1).
        Map<String, Long> headerAtZero = new LinkedHashMap<>();
        headerAtZero.put("neither a record nor empty", 5L << 32);
        headerAtZero.put("padding that does not end at the ring's end",
                RecordDescriptor.header(16, RecordDescriptor.PADDING_TYPE));
        headerAtZero.put("is corrupted: tail position", -1L);
        for (Map.Entry<String, Long> e : headerAtZero.entrySet()) {
            String name = names.unique("badrec");
            try (Channel ch = Channel.create(name, ChannelKind.ONE_TO_ONE, ChannelOptions.defaults().capacity(4096));
                 ChannelProducer out = ch.producer();
                 Segment s = SharedMemory.open(name); View v = s.map()) {
                assertTrue(out.offer(1, new byte[24]));
                assertTrue(out.offer(2, new byte[24]));
                if (e.getValue() == -1L) {
                    long tail = ChannelDescriptor.MAX_POSITION + 8;
                    v.memory().set(ValueLayout.JAVA_LONG, ChannelDescriptor.TAIL_OFFSET, tail);
                    v.memory().set(ValueLayout.JAVA_LONG, ChannelDescriptor.CLEAN_POSITION_OFFSET, tail);
                } else {
                    long dataOffset = v.memory().get(ValueLayout.JAVA_LONG, ChannelDescriptor.DATA_OFFSET_OFFSET);
                    v.memory().set(ValueLayout.JAVA_LONG, dataOffset, e.getValue());
                }
                try (ChildProcess proc = start(peer, name, 2, null)) {
                    assertEquals(1, proc.waitFor(), e.getKey() + ", stderr: " + proc.stderr());
                    assertTrue(proc.stderr().contains(e.getKey()), "expected \"" + e.getKey() + "\" in: " + proc.stderr());
                    assertFalse(proc.stderr().contains("Traceback"), proc.stderr());
                    assertNoSanitizerReport(proc);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Peer.class, names = {"C", "PYTHON"})
    void negativeCountsAndTimeoutsAreUsageErrors(Peer peer) throws Exception {
        // The example consumers exit alike (docs/channels.md): a negative --count or timeout is exit
        // code 2, said before any channel is looked for, not a run that quietly does nothing.
        String channel = names.unique("usage");
        List<String> base = new ArrayList<>(peer == Peer.C ? cConsumer()
                : NativePeers.pythonFromRepo("native/python/shmkit_channel.py"));
        base.add(channel);
        String timeout = peer == Peer.C ? "--timeout-ms" : "--timeout";
        for (List<String> bad : List.of(List.of("--count", "-1"), List.of(timeout, "-5"))) {
            List<String> cmd = new ArrayList<>(base);
            cmd.addAll(bad);
            try (ChildProcess proc = ChildProcess.start(cmd)) {
                assertEquals(2, proc.waitFor(), "exit code for " + bad + ", stderr: " + proc.stderr());
                assertTrue(proc.stderr().contains(bad.getFirst() + " needs a number"), proc.stderr());
            }
        }
        assertFalse(SharedMemory.exists(channel));
    }

    @Test
    void cAndPythonDeclareTheLayoutOfTheJavaDescriptors() throws Exception {
        Map<String, Long> java = new HashMap<>();
        for (Class<?> descriptor : List.of(ChannelDescriptor.class, SlotDescriptor.class, RecordDescriptor.class)) {
            for (Field f : descriptor.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && (f.getType() == int.class || f.getType() == long.class)) {
                    java.put(descriptor.getSimpleName() + "." + f.getName(), ((Number) f.get(null)).longValue());
                }
            }
        }
        List<String> c = NativePeers.c("channel_layout.c", buildDir, "-I" + NativePeers.repoPath("native/include"));
        List<String> python = new ArrayList<>(NativePeers.python("channel_layout.py", buildDir));
        python.add(NativePeers.repoPath("native/python").toString());
        for (List<String> probe : List.of(c, python)) {
            Map<String, Long> declared = new HashMap<>();
            try (ChildProcess p = ChildProcess.start(probe)) {
                for (String line : p.remainingOutput()) {
                    String[] kv = line.split(" ");
                    declared.put(kv[0], Long.parseLong(kv[1]));
                }
            }
            assertEquals(java.keySet(), declared.keySet(), probe + " declares every Java layout constant, no more");
            for (Map.Entry<String, Long> e : java.entrySet()) {
                assertEquals(e.getValue(), declared.get(e.getKey()), probe + ": " + e.getKey());
            }
        }
    }
}
