package io.shmkit.cli;

import io.shmkit.SharedMemory;
import io.shmkit.channel.Channel;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shm send}, {@code shm recv} and {@code shm stat} end to end: each command is a child JVM,
 * as a user runs it, on real channels in /dev/shm. Readiness is always observed (the channel's
 * participants), never assumed after a sleep.
 */
class ShmChannelCliTest extends CliTestSupport {

    ShmChannelCliTest() {
        super("chantest");
    }

    private Map<String, Object> statJson(String name) throws IOException {
        ShmProcess stat = run("stat", name, "--json", "--interval", "1ms");
        assertExit(0, stat);
        return MiniJson.object(stat.stdout());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> participants(Map<String, Object> stat) {
        return (List<Map<String, Object>>) stat.get("participants");
    }

    private static Map<String, Object> participant(Map<String, Object> stat, String role) {
        return participants(stat).stream().filter(p -> role.equals(p.get("role"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + role + " in " + stat));
    }

    /**
     * Waits, bounded, until the channel has {@code live} live participants of {@code role}, looking
     * through the library: cheaper than a {@code shm stat} process per look.
     */
    private static void awaitLive(String name, String role, int live) {
        awaitCondition(() -> liveCount(name, role) >= live, "channel \"" + name + "\" has " + live + " live " + role + "s");
    }

    private static long liveCount(String name, String role) {
        try {
            if (!SharedMemory.exists(name)) {
                return 0;
            }
            try (Channel channel = Channel.open(name)) {
                return channel.stats().participants().stream().filter(p -> p.role().equals(role) && p.alive()).count();
            }
        } catch (java.io.IOException e) {
            return 0; // not there yet, or not a channel yet: look again
        }
    }

    @Test
    void sendThenRecvKeepsTheMessagesInAPersistentChannel() throws Exception {
        String name = uniqueName();
        ShmProcess send = runWithInput(List.of("hello", "wörld", ""), "send", name);
        assertExit(0, send);
        assertEquals("", send.stdout(), "send prints nothing by default");
        assertTrue(SharedMemory.exists(name), "the channel must outlive the send that made it");

        // Each TEXT argument is a message too; \u0001 is not printable, so recv must show it safely.
        assertExit(0, run("send", name, "--type", "7", "tab\there", "bell\u0001"));

        ShmProcess recv = run("recv", name, "--count", "3", "--timeout", "30s");
        assertExit(0, recv);
        assertEquals("hello\nwörld\n\n", recv.stdout());
        ShmProcess json = run("recv", name, "--count", "2", "--timeout", "30s", "--json");
        assertExit(0, json);
        List<String> lines = json.stdout().lines().toList();
        assertEquals(2, lines.size(), json.diagnostics());
        Map<String, Object> first = MiniJson.object(lines.get(0));
        assertEquals(7L, first.get("type"));
        assertEquals(8L, first.get("length"));
        assertEquals("tab\there", first.get("text"));
        assertEquals("bell\u0001", MiniJson.object(lines.get(1)).get("text"));

        assertExit(0, run("send", name, "bell\u0001", "ok"));
        ShmProcess text = run("recv", name, "--count", "2", "--timeout", "30s");
        assertExit(0, text);
        assertEquals("<binary 5 bytes: 62656c6c01>\nok\n", text.stdout());

        ShmProcess rm = run("rm", name);
        assertExit(0, rm);
        assertFalse(SharedMemory.exists(name), "shm rm removes a channel");
    }

    @Test
    void recvThenSendWaitsForTheMessages() throws Exception {
        String name = uniqueName();
        ShmProcess recv = start("recv", name, "--count", "2", "--timeout", "30s");
        awaitLive(name, "consumer", 1);
        ShmProcess send = runWithInput(List.of("first", "second"), "send", name);
        assertExit(0, send);
        assertExit(0, recv);
        assertEquals("first\nsecond\n", recv.stdout());
        assertEquals("", recv.stderr());
    }

    @Test
    void manyToOneTakesEverySendersLinesInTheirOrder() throws Exception {
        String name = uniqueName();
        int n = 500;
        List<String> a = IntStream.range(0, n).mapToObj(i -> "a" + i).toList();
        List<String> b = IntStream.range(0, n).mapToObj(i -> "b" + i).toList();
        ShmProcess recv = start("recv", name, "--count", String.valueOf(2 * n), "--timeout", "30s");
        ShmProcess sendA = start("send", name);
        ShmProcess sendB = start("send", name);
        // Both senders are producers at once before either writes: the channel is many-to-one by default.
        awaitLive(name, "producer", 2);
        for (int i = 0; i < n; i++) {
            sendA.send(a.get(i));
            sendB.send(b.get(i));
        }
        sendA.closeStdin();
        sendB.closeStdin();
        assertExit(0, sendA);
        assertExit(0, sendB);
        assertExit(0, recv);
        List<String> got = recv.stdout().lines().toList();
        assertEquals(2 * n, got.size(), recv.diagnostics());
        assertEquals(a, got.stream().filter(l -> l.startsWith("a")).toList(), "sender a's order");
        assertEquals(b, got.stream().filter(l -> l.startsWith("b")).toList(), "sender b's order");
        assertEquals("many-to-one", statJson(name).get("kind"));
    }

    @Test
    void publishSubscribeGivesEveryMessageToEverySubscriber() throws Exception {
        String name = uniqueName();
        ShmProcess one = start("recv", name, "--kind", "publish-subscribe", "--count", "3", "--timeout", "30s");
        ShmProcess two = start("recv", name, "--subscriber", "second", "--count", "3", "--timeout", "30s",
                "--json");
        // Subscribers see what is sent after they joined: wait, through shm stat, until both have.
        awaitLive(name, "subscriber", 2);
        Map<String, Object> stat = statJson(name);
        assertEquals("publish-subscribe", stat.get("kind"));
        assertTrue(participants(stat).stream().anyMatch(p -> "second".equals(p.get("subscriberName"))), stat::toString);

        assertExit(0, runWithInput(List.of("x", "y", "z"), "send", name));
        assertExit(0, one);
        assertExit(0, two);
        assertEquals("x\ny\nz\n", one.stdout());
        assertEquals(List.of("x", "y", "z"), two.stdout().lines().map(l -> MiniJson.object(l).get("text")).toList());
    }

    @Test
    void statShowsKindCapacityPositionsLagAndParticipants() throws Exception {
        String name = uniqueName();
        assertExit(0, run("send", name, "--kind", "one-to-one", "--capacity", "64K", "a", "bb", "ccc"));

        Map<String, Object> stat = statJson(name);
        assertEquals(name, stat.get("name"));
        assertEquals("one-to-one", stat.get("kind"));
        assertEquals(65536L, stat.get("capacity"));
        assertEquals(65536L / 8 - 8, stat.get("maxMessageLength"));
        assertEquals(48L, stat.get("tail"), "three records of 16 bytes");
        assertEquals(3L, stat.get("messagesProduced"));
        assertEquals(48L, stat.get("lag"), "nothing received yet");
        assertEquals(0.0, stat.get("messageRate"));
        Map<String, Object> producer = participant(stat, "producer");
        assertEquals("closed", producer.get("state"));
        assertEquals(false, producer.get("alive"));
        assertEquals(3L, producer.get("messages"));
        assertNull(producer.get("position"));

        // A receiver takes one message and goes; the next resumes after it.
        ShmProcess recv = run("recv", name, "--count", "1");
        assertExit(0, recv);
        assertEquals("a\n", recv.stdout());
        stat = statJson(name);
        Map<String, Object> consumer = participant(stat, "consumer");
        assertEquals(16L, consumer.get("position"));
        assertEquals(32L, consumer.get("lag"));
        assertEquals(1L, consumer.get("messages"));
        assertEquals(32L, stat.get("lag"));

        ShmProcess live = start("recv", name, "--count", "3", "--timeout", "30s");
        live.await("bb"::equals, "the second message");
        live.await("ccc"::equals, "the third message");
        ShmProcess text = run("stat", name);
        assertExit(0, text);
        String out = text.stdout();
        assertTrue(out.contains("channel:       " + name + " (one-to-one)\n"), text.diagnostics());
        assertTrue(out.contains("capacity:      64 KiB ring, messages up to 8184 bytes\n"), text.diagnostics());
        assertTrue(out.contains("messages:      3 sent\n"), text.diagnostics());
        assertTrue(out.contains("lag:           0 bytes"), text.diagnostics());
        assertTrue(out.lines().anyMatch(l -> l.matches(" +consumer +0 active +" + live.pid() + " yes .* 48 +0 +3 .*")),
                text.diagnostics());
        assertTrue(out.contains("participants:  1 shown, and 1 that left (--all shows them)\n"), text.diagnostics());
        ShmProcess all = run("stat", name, "--all");
        assertExit(0, all);
        assertTrue(all.stdout().lines().anyMatch(l -> l.matches(" +producer +0 closed +\\d+ no .* - +- +3 .*")),
                all.diagnostics());
        assertTrue(out.matches("(?s).*rates: +[0-9.]+ msg/s, .*/s \\(over \\d+ms\\).*"), text.diagnostics());

        ShmProcess info = run("info", name);
        assertExit(0, info);
        assertTrue(info.stdout().contains("holds:        channel: one-to-one, 64 KiB ring"),
                info.diagnostics());
    }

    @Test
    void statWatchRefreshesCountTimes() throws Exception {
        String name = uniqueName();
        assertExit(0, run("send", name, "one"));
        ShmProcess watch = run("stat", name, "--watch", "--count", "2", "--interval", "100ms");
        assertExit(0, watch);
        assertEquals(2, watch.stdout().lines().filter(l -> l.startsWith("channel:")).count(), watch.diagnostics());
        assertFalse(watch.stdout().contains("\033["), "no terminal codes when stdout is not a terminal");
        ShmProcess json = run("stat", name, "--watch", "--count", "2", "--interval", "100ms", "--json");
        assertExit(0, json);
        List<String> lines = json.stdout().lines().toList();
        assertEquals(2, lines.size(), json.diagnostics());
        for (String line : lines) {
            assertEquals("many-to-one", MiniJson.object(line).get("kind"));
        }
    }

    @Test
    void statEscapesControlCharactersInSubscriberNames() throws Exception {
        // Any 1 to 16 bytes name a subscriber: a newline split stat's table, ESC [ 2 J cleared the screen.
        String name = uniqueName();
        String subscriber = "a\u001b[2J\nb\\";
        assertExit(6, run("recv", name, "--subscriber", subscriber, "--count", "1", "--timeout", "1ms"));
        ShmProcess text = run("stat", name, "--interval", "1ms");
        assertExit(0, text);
        assertFalse(text.stdout().contains("\u001b"), text.diagnostics());
        assertTrue(text.stdout().lines().anyMatch(l -> l.matches(" +subscriber +0 closed .* a\\\\u001b\\[2J\\\\nb\\\\\\\\")),
                text.diagnostics());
        assertEquals(subscriber, participant(statJson(name), "subscriber").get("subscriberName"));
    }

    @Test
    void statShowsTimesFarFromNowAsSuch() throws Exception {
        // Heartbeats and the creation time are read from the segment: a value far in the past or the
        // future overflowed the age, and showed as a heartbeat 0.0s old.
        String name = uniqueName();
        assertExit(0, run("send", name, "--kind", "one-to-one", "x"));
        try (io.shmkit.Segment s = SharedMemory.open(name); io.shmkit.View v = s.map()) {
            java.lang.foreign.MemorySegment m = v.memory();
            long producerSlot = io.shmkit.internal.layout.SlotDescriptor.slotOffset(0);
            m.set(java.lang.foreign.ValueLayout.JAVA_LONG,
                    producerSlot + io.shmkit.internal.layout.SlotDescriptor.HEARTBEAT_OFFSET, Long.MIN_VALUE);
            m.set(java.lang.foreign.ValueLayout.JAVA_LONG,
                    io.shmkit.internal.layout.ChannelDescriptor.CREATED_MILLIS_OFFSET, Long.MAX_VALUE);
        }
        ShmProcess text = run("stat", name, "--all", "--interval", "1ms");
        assertExit(0, text);
        assertTrue(text.stdout().lines().anyMatch(l -> l.matches(" +producer +0 closed +\\d+ no +\\d+d ago .*")),
                text.diagnostics());
        assertTrue(text.stdout().contains("created:       +292278994-"), text.diagnostics());
        assertTrue(text.stdout().contains(" (in future)\n"), text.diagnostics());
        assertEquals(Long.MAX_VALUE, participant(statJson(name), "producer").get("heartbeatAgeMillis"));
    }

    @Test
    void timeoutsExitWith6() throws Exception {
        String name = uniqueName();
        ShmProcess recv = run("recv", name, "--timeout", "200ms");
        assertExit(ExitCodes.TIMED_OUT, recv);
        assertOneLineError(recv, "no message on \"" + name + "\" within 200ms");

        String absent = uniqueName();
        ShmProcess waiting = run("recv", absent, "--no-create", "--timeout", "200ms");
        assertExit(ExitCodes.TIMED_OUT, waiting);
        assertOneLineError(waiting, "no channel \"" + absent + "\" appeared within 200ms");
        assertFalse(SharedMemory.exists(absent), "--no-create creates nothing");

        // A 4 KiB ring holds a few 400-byte lines; with no receiver, the sender waits, then gives up.
        String full = uniqueName();
        List<String> lines = IntStream.range(0, 20).mapToObj(i -> i + " " + "x".repeat(400)).toList();
        ShmProcess send = runWithInput(lines, "send", full, "--capacity", "4K", "--timeout", "200ms");
        assertExit(ExitCodes.TIMED_OUT, send);
        assertOneLineError(send, "channel \"" + full + "\" stayed full for 200ms");
        ShmProcess drain = run("recv", full, "--count", "1");
        assertExit(0, drain);
        assertEquals(lines.getFirst() + "\n", drain.stdout(), "what was sent before the timeout is there");
    }

    @Test
    void recvEndsWhenTheReaderOfItsOutputGoesAway() throws Exception {
        // `shm recv x | head -1` with one message in the channel: once head has its line and exits,
        // recv must end too, not wait for a next message that would only then fail to print.
        String name = uniqueName();
        assertExit(0, run("send", name, "only"));
        assertEndsOnceHeadHasItsLine("only", "recv", name);
    }

    @Test
    void statWatchEndsWhenTheReaderOfItsOutputGoesAway() throws Exception {
        // With nothing to print for ten minutes, stat --watch must still end as soon as head exits,
        // in text and in JSON.
        String name = uniqueName();
        assertExit(0, run("send", name, "x"));
        assertEndsOnceHeadHasItsLine("channel:       " + name + " (many-to-one)", "stat", name, "--watch",
                "--interval", "10m");
        List<Process> json = ProcessBuilder.startPipeline(List.of(
                ShmProcess.builder(List.of("stat", name, "--watch", "--interval", "10m", "--json"))
                        .redirectInput(new File("/dev/null")),
                new ProcessBuilder("head", "-n", "1")));
        try {
            assertTrue(json.getLast().waitFor(ShmProcess.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "head exits");
            assertEquals(name, MiniJson.object(new String(json.getLast().getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8)).get("name"));
            assertTrue(json.getFirst().waitFor(ShmProcess.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                    "stat --json exits once nobody reads its output");
            assertEquals(0, json.getFirst().exitValue());
        } finally {
            json.forEach(Process::destroyForcibly);
        }
        // Output to /dev/null, or to a file, is not a reader gone: --count ends it, after every refresh.
        File file = File.createTempFile("shm-stat", ".txt");
        try {
            for (ProcessBuilder.Redirect to : List.of(ProcessBuilder.Redirect.DISCARD,
                    ProcessBuilder.Redirect.to(file))) {
                Process quiet = ShmProcess.builder(List.of("stat", name, "--watch", "--interval", "50ms", "--count",
                        "3", "--json")).redirectInput(new File("/dev/null")).redirectOutput(to).start();
                try {
                    assertTrue(quiet.waitFor(ShmProcess.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "stat exits");
                    assertEquals(0, quiet.exitValue());
                } finally {
                    quiet.destroyForcibly();
                }
            }
            assertEquals(3, java.nio.file.Files.readAllLines(file.toPath()).size(), "three refreshes in the file");
        } finally {
            file.delete();
        }
    }

    @Test
    void recvEndedBySigtermClosesItsConsumer() throws Exception {
        // Killed asleep without closing, it would leave its slot active and its count in "consumers
        // waiting", and every commit of the sender would wake nobody until the next receiver came.
        String name = uniqueName();
        ShmProcess recv = start("recv", name);
        awaitLive(name, "consumer", 1);
        recv.terminate();
        assertExit(128 + 15, recv);
        assertEquals("", recv.stderr(), "no message, no stack trace" + recv.diagnostics());
        assertEquals("closed", participant(statJson(name), "consumer").get("state"));
    }

    @Test
    void recvNoticesThatItsChannelWasRemoved() throws Exception {
        String name = uniqueName();
        ShmProcess recv = start("recv", name);
        awaitLive(name, "consumer", 1);
        assertExit(0, run("rm", name));
        assertExit(ExitCodes.NOT_FOUND, recv);
        assertOneLineError(recv, "channel \"" + name + "\" was removed while recv waited");
    }

    @Test
    void errorsAreClearAndUsageErrorsExitWith2() throws Exception {
        String name = uniqueName();
        ShmProcess capacity = run("send", name, "--capacity", "3K", "x");
        assertExit(ExitCodes.USAGE, capacity);
        assertOneLineError(capacity, "invalid capacity \"3K\"");
        ShmProcess kind = run("recv", name, "--kind", "one-to-many");
        assertExit(ExitCodes.USAGE, kind);
        assertOneLineError(kind, "invalid channel kind \"one-to-many\"");
        ShmProcess count = run("stat", name, "--count", "2");
        assertExit(ExitCodes.USAGE, count);
        assertOneLineError(count, "--count goes with --watch");
        assertFalse(SharedMemory.exists(name), "nothing is created on a usage error");

        ShmProcess missing = run("stat", name);
        assertExit(ExitCodes.NOT_FOUND, missing);
        assertOneLineError(missing, "no channel \"" + name + "\"");

        String plain = uniqueName();
        assertExit(0, run("create", plain, "--size", "4K"));
        assertExit(0, run("write", plain, "not a channel"));
        ShmProcess notChannel = run("stat", plain);
        assertExit(ExitCodes.FAILURE, notChannel);
        assertOneLineError(notChannel, "segment \"" + plain + "\" is not a channel");
        ShmProcess sendToIt = run("send", plain, "x");
        assertExit(ExitCodes.FAILURE, sendToIt);
        assertOneLineError(sendToIt, "is not a channel");

        String oneToOne = uniqueName();
        assertExit(0, run("send", oneToOne, "--kind", "one-to-one", "--capacity", "64K", "x"));
        ShmProcess wrongKind = run("recv", oneToOne, "--kind", "publish-subscribe");
        assertExit(ExitCodes.FAILURE, wrongKind);
        assertOneLineError(wrongKind, "channel \"" + oneToOne + "\" is one-to-one, not publish-subscribe");
        ShmProcess otherCapacity = run("send", oneToOne, "--capacity", "1M", "x");
        assertExit(ExitCodes.FAILURE, otherCapacity);
        assertOneLineError(otherCapacity, "channel \"" + oneToOne + "\" has a 64 KiB ring, not 1 MiB");
        // Less than a pipe's buffer, so the test writes it all even though send stops reading at the long line.
        ShmProcess tooLong = runWithInput(List.of("fits", "y".repeat(9000)), "send", oneToOne);
        assertExit(ExitCodes.USAGE, tooLong);
        assertOneLineError(tooLong, "message 2 is ");
        assertOneLineError(tooLong, "takes messages up to 8184 bytes");

        // Only one sender at a time on a one-to-one channel, and the error says why.
        ShmProcess holder = start("send", oneToOne);
        awaitLive(oneToOne, "producer", 1);
        ShmProcess second = run("send", oneToOne, "z");
        assertExit(ExitCodes.FAILURE, second);
        assertOneLineError(second, "one sender at a time");
        holder.closeStdin();
        assertExit(0, holder);
        List<String> received = run("recv", oneToOne, "--count", "2", "--timeout", "30s").stdout().lines().toList();
        assertEquals(List.of("x", "fits"), received);
    }
}
