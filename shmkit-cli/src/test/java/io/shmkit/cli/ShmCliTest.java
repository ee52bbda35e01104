package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Segment;
import io.shmkit.SegmentOptions;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code shm} command end to end: each command runs in a child JVM, exactly as a user runs it,
 * and the tests check its stdout, stderr and exit code against real segments in /dev/shm.
 */
class ShmCliTest extends CliTestSupport {

    ShmCliTest() {
        super("clitest");
    }

    @Test
    void createWriteReadListInfoRemove() throws Exception {
        String name = uniqueName();

        ShmProcess create = run("create", name, "--size", "4K", "--mode", "640", "--json");
        assertExit(0, create);
        Map<String, Object> created = MiniJson.object(create.stdout());
        assertEquals(name, created.get("name"));
        assertEquals(4096L, created.get("size"));
        assertEquals("0640", created.get("permissions"));
        assertEquals("rw-r-----", created.get("mode"));
        assertEquals("PERSISTENT", created.get("lifetime"));
        assertTrue(SharedMemory.exists(name), "create must leave a segment that outlives the command");

        assertExit(0, run("write", name, "héllo, wörld"));
        ShmProcess read = run("read", name);
        assertExit(0, read);
        assertEquals("héllo, wörld\n", read.stdout());

        ShmProcess fromStdin = start("write", name, "--offset", "100");
        fromStdin.send("from stdin");
        fromStdin.closeStdin();
        assertExit(0, fromStdin);
        ShmProcess readAt = run("read", name, "--offset", "100", "--json");
        assertExit(0, readAt);
        Map<String, Object> json = MiniJson.object(readAt.stdout());
        assertEquals("from stdin", json.get("text"));
        assertEquals(100L, json.get("offset"));
        assertEquals(10L, json.get("length"));

        ShmProcess hex = run("read", name, "--offset", "100", "--length", "12", "--hex");
        assertExit(0, hex);
        assertEquals("00000064: 6672 6f6d 2073 7464 696e 0000            from stdin..\n", hex.stdout());
        ShmProcess raw = run("read", name, "--offset", "100", "--length", "4");
        assertExit(0, raw);
        assertEquals("from", raw.stdout());

        ShmProcess ls = run("ls");
        assertExit(0, ls);
        assertTrue(ls.stdout().lines().anyMatch(l -> l.matches(Pattern.quote(name)
                + " +4 KiB +\\S+ +rw-r----- +persistent +0")), ls.diagnostics());
        ShmProcess lsJson = run("ls", "--json");
        assertExit(0, lsJson);
        assertTrue(MiniJson.parse(lsJson.stdout()) instanceof List<?> all && all.stream()
                .anyMatch(s -> s instanceof Map<?, ?> m && name.equals(m.get("name")) && Long.valueOf(4096).equals(
                        m.get("size")) && Boolean.FALSE.equals(m.get("stale"))), lsJson.diagnostics());

        ShmProcess info = run("info", name);
        assertExit(0, info);
        assertTrue(info.stdout().contains("path:         /dev/shm/" + name + "\n"), info.diagnostics());
        assertTrue(info.stdout().contains("rw-r----- (0640)") && info.stdout().contains("persistent"),
                info.diagnostics());
        ShmProcess infoJson = run("info", name, "--json");
        assertExit(0, infoJson);
        Map<String, Object> described = MiniJson.object(infoJson.stdout());
        assertEquals("/dev/shm/" + name, described.get("path"));
        assertEquals(List.of(), described.get("holderPids"));
        assertEquals(true, described.get("managed"));

        ShmProcess rm = run("rm", name);
        assertExit(0, rm);
        assertEquals("removed \"" + name + "\"\n", rm.stdout());
        assertFalse(SharedMemory.exists(name));
        ShmProcess gone = run("read", name);
        assertExit(ExitCodes.NOT_FOUND, gone);
        assertOneLineError(gone, name);
    }

    @Test
    void lsShowsANameWithALineBreakOnItsOwnRow() throws Exception {
        // Another program (C shm_open, or any file in /dev/shm) may use any name; one with a line
        // break must not print as two rows, the second looking like another segment's.
        String prefix = uniqueName();
        Path planted = Path.of("/dev/shm", prefix + "\nfake-segment   1 GiB  root   rw-------  persistent  3");
        try {
            Files.write(planted, new byte[16]);
            ShmProcess ls = run("ls");
            assertExit(0, ls);
            assertFalse(ls.stdout().lines().anyMatch(l -> l.startsWith("fake-segment")), ls.diagnostics());
            assertTrue(ls.stdout().lines().anyMatch(l -> l.startsWith(prefix + "\\u000afake-segment ")),
                    ls.diagnostics());
        } finally {
            Files.deleteIfExists(planted);
        }
    }

    @Test
    void aNonAsciiNameInThePosixLocaleIsRefusedNotGarbled() throws Exception {
        // The JVM decodes the command line with the locale's charset: under LC_ALL=C each byte of
        // a non-ASCII name arrives as U+FFFD, and a segment of that garbled name was created.
        String name = uniqueName() + "-данные";
        ProcessBuilder builder = ShmProcess.builder(List.of("create", name, "--size", "4K"));
        builder.environment().put("LC_ALL", "C");
        builder.environment().put("LANG", "C");
        builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = builder.start();
        String stderr = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "shm create did not end");
        String garbled = name.substring(0, name.indexOf('-' + "данные")) + "-" + "\uFFFD".repeat(12);
        try {
            assertEquals(ExitCodes.USAGE, p.exitValue(), stderr);
            assertTrue(stderr.contains("UTF-8 locale") && stderr.lines().count() == 1, stderr);
            assertFalse(SharedMemory.exists(garbled), "a segment of the garbled name was made");
        } finally {
            SharedMemory.remove(garbled);
        }
    }

    @Test
    void readerPrintsTheWritersLastMessageOnEnter() throws Exception {
        String name = uniqueName();
        ShmProcess writer = start("writer", name);
        writer.send("hello");
        writer.awaitLine("published \"hello\"");
        writer.send("wörld, again");
        writer.awaitLine("published \"wörld, again\"");

        ShmProcess reader = start("reader", name);
        reader.send("");
        reader.awaitLine("wörld, again");
        writer.send("third");
        writer.awaitLine("published \"third\"");
        reader.send("");
        reader.awaitLine("third");
        reader.send("exit");
        assertExit(0, reader);

        writer.send("exit");
        assertExit(0, writer);
        assertTrue(writer.stdout().contains("no holder is left, so it is removed"), writer.diagnostics());
        assertFalse(SharedMemory.exists(name), "the writer's segment must go with the writer");

        ShmProcess orphan = run("reader", name);
        assertExit(ExitCodes.NOT_FOUND, orphan);
        assertOneLineError(orphan, "no segment \"" + name + "\": start `shm writer " + name + "` first");
    }

    @Test
    void followingReaderSeesSuccessiveMessages() throws Exception {
        String name = uniqueName();
        ShmProcess writer = start("writer", name, "--size", "1K");
        writer.send("one");
        writer.awaitLine("published \"one\"");

        ShmProcess reader = start("reader", name, "--follow", "--count", "2", "--timeout", "30s", "--json");
        Map<String, Object> first = MiniJson.object(reader.await(l -> true, "the first message"));
        assertEquals("one", first.get("message"));
        assertEquals(name, first.get("name"));
        writer.send("two");
        assertEquals("two", MiniJson.object(reader.await(l -> true, "the second message")).get("message"));
        assertExit(0, reader);

        writer.closeStdin();
        assertExit(0, writer);
        assertFalse(SharedMemory.exists(name));
    }

    @Test
    void followingReaderEndsWhenTheReaderOfItsOutputGoesAway() throws Exception {
        // `shm reader x --follow | head -1`: once head has the current message and exits, the reader
        // ends too, although no new message comes to fail to print.
        String name = uniqueName();
        ShmProcess writer = start("writer", name, "--size", "1K");
        writer.send("hello");
        writer.awaitLine("published \"hello\"");
        assertEndsOnceHeadHasItsLine("hello", "reader", name, "--follow");
        assertEndsOnceHeadHasItsLine("{\"name\":\"" + name + "\",\"message\":\"hello\"}", "reader", name,
                "--follow", "--json");
        writer.closeStdin();
        assertExit(0, writer);
    }

    @Test
    void followingReaderEndedBySigtermLeavesNoFollowerCounted() throws Exception {
        // The followers word of the writer's seqlock (offset 12, docs/sync.md): a follower killed asleep
        // would stay counted, and every message published would wake nobody with a system call.
        String name = uniqueName();
        ShmProcess writer = start("writer", name, "--size", "1K");
        writer.send("hello");
        writer.awaitLine("published \"hello\"");
        ShmProcess reader = start("reader", name, "--follow");
        reader.awaitLine("hello");
        try (Segment segment = SharedMemory.open(name, SegmentOptions.defaults().access(Access.READ_ONLY));
             View view = segment.map()) {
            awaitCondition(() -> view.memory().get(ValueLayout.JAVA_INT, 12) == 1, "the reader follows");
            reader.terminate();
            assertExit(128 + 15, reader);
            assertEquals("", reader.stderr(), "no message, no stack trace" + reader.diagnostics());
            assertEquals(0, view.memory().get(ValueLayout.JAVA_INT, 12), "no follower counted any more");
        }
        writer.closeStdin();
        assertExit(0, writer);
    }

    @Test
    void followingReaderTimesOutAndSeesTheSegmentGo() throws Exception {
        String name = uniqueName();
        assertExit(0, run("create", name, "--size", "1K"));
        ShmProcess timedOut = run("reader", name, "--follow", "--timeout", "200ms");
        assertExit(ExitCodes.TIMED_OUT, timedOut);
        assertOneLineError(timedOut, "after 200ms");

        String second = uniqueName();
        ShmProcess writer = start("writer", second);
        writer.awaitLine("writer: each line you type becomes the message `shm reader " + second
                + "` shows; `exit` or Ctrl-D ends");
        ShmProcess follower = start("reader", second, "--follow");
        writer.send("bye");
        follower.awaitLine("bye");
        writer.send("exit");
        assertExit(0, writer);
        assertExit(0, follower);
        assertTrue(follower.stderr().contains("is gone: its writer exited, or it was removed"), follower.diagnostics());
    }

    @Test
    void writerRefusesANameThatExists() throws Exception {
        String name = uniqueName();
        assertExit(0, run("create", name, "--size", "1K", "--persistent"));
        ShmProcess writer = run("writer", name);
        assertExit(ExitCodes.ALREADY_EXISTS, writer);
        assertOneLineError(writer, "segment \"" + name + "\" already exists");
    }

    @Test
    void tourRunsWithoutInputAndLeavesNothingBehind() throws Exception {
        ShmProcess tour = run("tour");
        String out = tour.stdout();
        Matcher m = Pattern.compile("Created the segment \"(shm-tour-[0-9a-f-]+)\"").matcher(out);
        if (m.find()) {
            removeAfterTest(m.group(1));
        }
        assertExit(0, tour);
        assertTrue(m.find(0), tour.diagnostics());
        Matcher there = Pattern.compile("pid (\\d+) -> pid (\\d+): \"hello from pid \\1\"").matcher(out);
        assertTrue(there.find(), "the greeting must pass to the second process" + tour.diagnostics());
        assertTrue(out.contains("pid " + there.group(2) + " -> pid " + there.group(1) + ": \"hello back from pid "
                + there.group(2) + "\""), "the reply must pass back" + tour.diagnostics());
        assertTrue(out.contains("/dev/shm/" + m.group(1)) && out.contains("shm_open(\"/" + m.group(1) + "\""),
                tour.diagnostics());
        assertTrue(out.contains("exists: no"), tour.diagnostics());
        assertFalse(SharedMemory.exists(m.group(1)), "the tour must leave no segment behind");
        assertEquals("", tour.stderr());
    }

    @Test
    void usageErrorsExitWith2() throws Exception {
        ShmProcess zero = run("create", uniqueName(), "--size", "0");
        assertExit(ExitCodes.USAGE, zero);
        assertOneLineError(zero, "at least 1 byte");

        ShmProcess badSize = run("create", uniqueName(), "--size", "4X");
        assertExit(ExitCodes.USAGE, badSize);
        assertOneLineError(badSize, "invalid size \"4X\"");

        ShmProcess badDuration = run("reader", uniqueName(), "--follow", "--timeout", "5");
        assertExit(ExitCodes.USAGE, badDuration);
        assertOneLineError(badDuration, "invalid duration \"5\"");

        ShmProcess badName = run("create", "a/b", "--size", "1K");
        assertExit(ExitCodes.USAGE, badName);
        assertOneLineError(badName, "invalid segment name \"a/b\"");
    }

    @Test
    void failuresExitWithTheirOwnCodes() throws Exception {
        String missing = uniqueName();
        ShmProcess notFound = run("read", missing);
        assertExit(ExitCodes.NOT_FOUND, notFound);
        assertOneLineError(notFound, missing);

        String name = uniqueName();
        assertExit(0, run("create", name, "--size", "1K", "--persistent"));
        ShmProcess exists = run("create", name, "--size", "1K");
        assertExit(ExitCodes.ALREADY_EXISTS, exists);
        assertOneLineError(exists, name);

        assertExit(0, run("write", name, "not yours"));
        Files.setAttribute(Path.of(SharedMemory.osPath(name)), "unix:uid", 65534);
        ShmProcess foreign = run("read", name);
        assertExit(ExitCodes.PERMISSION_DENIED, foreign);
        assertOneLineError(foreign, "--allow-foreign");
        ShmProcess allowed = run("read", name, "--allow-foreign");
        assertExit(0, allowed);
        assertEquals("not yours\n", allowed.stdout());

        ShmProcess rm = run("rm", missing, name);
        assertExit(ExitCodes.NOT_FOUND, rm);
        assertOneLineError(rm, missing);
        assertEquals("removed \"" + name + "\"\n", rm.stdout(), "every name is tried" + rm.diagnostics());
        assertExit(0, run("rm", "--force", missing));
    }

    @Test
    void aWriterKilledWithSigkillLeavesAStaleSegmentThatIsMarked() throws Exception {
        String name = uniqueName();
        ShmProcess writer = start("writer", name);
        writer.send("last words");
        writer.awaitLine("published \"last words\"");
        writer.close();

        ShmProcess info = run("info", name, "--json");
        assertExit(0, info);
        Map<String, Object> described = MiniJson.object(info.stdout());
        assertEquals(true, described.get("stale"), info.diagnostics());
        assertEquals("UNTIL_LAST_CLOSE", described.get("lifetime"));
        ShmProcess ls = run("ls");
        assertExit(0, ls);
        // the writer's segment holds a seqlock, which the KIND column shows
        assertTrue(ls.stdout().lines().anyMatch(l -> l.startsWith(name + " ") && l.matches(".* 0  stale +seqlock")),
                ls.diagnostics());
    }
}
