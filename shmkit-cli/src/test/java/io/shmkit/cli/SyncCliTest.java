package io.shmkit.cli;

import io.shmkit.Segment;
import io.shmkit.SeqLock;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code shm lock}, {@code shm event}, and what {@code info} and the writer/reader pair say about them, end to end. */
class SyncCliTest extends CliTestSupport {

    /** The waiters an event counts, as `shm info` shows them; -1 while it does not exist yet. */
    private static int waiters(String event) {
        try {
            return SharedMemory.info(event).map(i -> ((Number) i.state().getOrDefault("waiters", -1)).intValue())
                    .orElse(-1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void eventWaitEndedBySigtermLeavesNoWaiterCounted() throws Exception {
        String name = uniqueName();
        ShmProcess wait = start("event", name, "wait");
        awaitCondition(() -> waiters(name) == 1, "\"" + name + "\" counts its waiter");
        wait.terminate();
        assertExit(128 + 15, wait);
        assertEquals("", wait.stderr(), "no message, no stack trace" + wait.diagnostics());
        assertEquals(0, waiters(name), "the waiter that went is not counted any more");
    }

    SyncCliTest() {
        super("clisync");
    }

    private Map<String, Object> info(String name) throws IOException {
        ShmProcess info = run("info", name, "--json");
        assertExit(0, info);
        return MiniJson.object(info.stdout());
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> state(String name) throws IOException {
        return (Map<String, Object>) info(name).get("state");
    }

    // ---------------------------------------------------------------------------------------------
    // shm lock

    @Test
    void lockRunsTheCommandAndExitsWithItsCode() throws Exception {
        String name = uniqueName();
        ShmProcess echo = run("lock", name, "--", "echo", "hello from under the lock");
        assertExit(0, echo);
        assertEquals("hello from under the lock\n", echo.stdout());
        assertEquals("", echo.stderr());
        assertExit(3, run("lock", name, "--", "sh", "-c", "exit 3"));
        ShmProcess missing = run("lock", name, "--", "/nonexistent/command");
        assertExit(127, missing);
        assertTrue(missing.stderr().contains("cannot run /nonexistent/command"), missing.diagnostics());

        Map<String, Object> described = info(name);
        assertEquals("mutex", described.get("kind"));
        assertEquals("PERSISTENT", described.get("lifetime"), "the mutex outlives the command");
        assertEquals(false, state(name).get("locked"));
        assertExit(2, run("lock", name));
        assertExit(2, run("lock", "--timeout", "5", name, "--", "true"));
    }

    @Test
    void lockMakesCommandsTakeTurnsAndTimesOut() throws Exception {
        String name = uniqueName();
        // the held command waits for a line on stdin, which it inherits from shm lock
        ShmProcess first = start("lock", name, "--", "sh", "-c", "echo held; read line; echo released");
        first.awaitLine("held");
        assertEquals(true, state(name).get("locked"));

        ShmProcess impatient = run("lock", "--timeout", "300ms", name, "--", "echo", "never");
        assertExit(ExitCodes.TIMED_OUT, impatient);
        assertEquals("", impatient.stdout());
        assertTrue(impatient.stderr().startsWith("shm: could not lock \"" + name + "\" within 300ms (--timeout): pid "),
                impatient.diagnostics());

        ShmProcess second = start("lock", name, "--", "echo", "second");
        awaitCondition(() -> {
            try {
                return Boolean.TRUE.equals(state(name).get("waiters"));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }, "the second command waits for the mutex");
        assertEquals("", second.stdout(), "it must not run while the first holds the mutex");
        first.send("go");
        first.awaitLine("released");
        assertExit(0, first);
        second.awaitLine("second");
        assertExit(0, second);
        assertEquals("", second.stderr(), "an orderly release is not a death");
    }

    @Test
    void lockSaysWhenThePreviousHolderDiedAndClearsItOnSuccess() throws Exception {
        String name = uniqueName();
        ShmProcess holder = start("lock", name, "--", "sh", "-c", "echo held; read line");
        holder.awaitLine("held");
        holder.close(); // SIGKILL to the shm process while it holds the mutex

        ShmProcess failing = run("lock", name, "--", "false");
        assertExit(1, failing);
        assertTrue(failing.stderr().startsWith("shm lock: the previous holder of \"" + name + "\" (pid ")
                && failing.stderr().contains("died holding it"), failing.diagnostics());
        assertEquals(false, state(name).get("consistent"), "a failed command leaves it marked");

        ShmProcess repair = run("lock", name, "--", "echo", "repaired");
        assertExit(0, repair);
        assertTrue(repair.stderr().contains("died holding it"), "told again until repaired" + repair.diagnostics());
        assertEquals(true, state(name).get("consistent"), "the successful command cleared it");
        ShmProcess after = run("lock", name, "--", "true");
        assertExit(0, after);
        assertEquals("", after.stderr());
        assertEquals(1L, state(name).get("abandonCount"));
    }

    @Test
    void sigtermEndsTheCommandAndUnlocksCleanly() throws Exception {
        String name = uniqueName();
        ShmProcess holder = start("lock", name, "--", "sh", "-c", "echo held; read line");
        holder.awaitLine("held");
        holder.terminate();
        holder.awaitExit();
        assertEquals(false, state(name).get("locked"), "unlocked on the way out" + holder.diagnostics());
        ShmProcess next = run("lock", name, "--", "true");
        assertExit(0, next);
        assertEquals("", next.stderr(), "a terminated holder is not a dead one");
        assertEquals(0L, state(name).get("abandonCount"));
    }

    // ---------------------------------------------------------------------------------------------
    // shm event

    @Test
    void eventSetWakesAWaiterInAnotherProcess() throws Exception {
        String name = uniqueName();
        ShmProcess timedOut = run("event", name, "wait", "--timeout", "200ms");
        assertExit(ExitCodes.TIMED_OUT, timedOut);
        assertEquals("shm: event \"" + name + "\" was not set within 200ms (--timeout)\n", timedOut.stderr());
        assertEquals("event", info(name).get("kind"));
        assertEquals("PERSISTENT", info(name).get("lifetime"), "the event outlives the command that made it");

        ShmProcess waiter = start("event", name, "wait", "--timeout", "30s", "--json");
        awaitCondition(() -> {
            try {
                return ((Long) state(name).get("waiters")) == 1L;
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }, "the waiter sleeps on the event");
        ShmProcess set = run("event", name, "set");
        assertExit(0, set);
        assertEquals("set \"" + name + "\" (manual reset)\n", set.stdout());
        assertExit(0, waiter);
        Map<String, Object> woke = MiniJson.object(waiter.stdout());
        assertEquals("wait", woke.get("action"));
        assertEquals(true, woke.get("set"));

        assertExit(0, run("event", name, "wait", "--timeout", "1s")); // manual reset: stays set
        assertEquals(true, state(name).get("set"));
        assertExit(0, run("event", name, "reset"));
        assertEquals(false, state(name).get("set"));
        assertExit(ExitCodes.TIMED_OUT, run("event", name, "wait", "--timeout", "100ms"));
    }

    @Test
    void autoResetEventsReleaseOneWaitPerSet() throws Exception {
        String name = uniqueName();
        assertExit(0, run("event", "--auto", name, "set"));
        assertEquals(false, state(name).get("manualReset"));
        assertExit(0, run("event", name, "wait", "--timeout", "1s"));
        assertExit(ExitCodes.TIMED_OUT, run("event", name, "wait", "--timeout", "100ms"));
    }

    @Test
    void eventUsageErrors() throws Exception {
        String name = uniqueName();
        ShmProcess bogus = run("event", name, "toggle");
        assertExit(ExitCodes.USAGE, bogus);
        assertTrue(bogus.stderr().contains("unknown action \"toggle\""), bogus.diagnostics());
        assertExit(ExitCodes.USAGE, run("event", name, "set", "--timeout", "1s"));
        assertExit(ExitCodes.USAGE, run("event", name, "wait", "--timeout", "soon"));
        assertFalse(SharedMemory.exists(name), "usage errors create nothing");
    }

    // ---------------------------------------------------------------------------------------------
    // writer and reader through the seqlock

    @Test
    void theWritersSegmentIsASeqLockWithTheMessageAtOffset128() throws Exception {
        String name = uniqueName();
        ShmProcess writer = start("writer", name, "--size", "1K");
        writer.send("whole messages only");
        writer.awaitLine("published \"whole messages only\"");
        Map<String, Object> described = info(name);
        assertEquals("seqlock", described.get("kind"));
        assertEquals(1L, state(name).get("version"));
        try (Segment s = SharedMemory.open(name); View v = s.map()) {
            assertEquals("whole messages only", v.getString(SeqLock.HEADER_SIZE), "where a C reader finds it");
            assertEquals("whole messages only", new String(SeqLock.attach(v, 0).read(),
                    java.nio.charset.StandardCharsets.UTF_8).replace("\0", ""));
        }
        ShmProcess tooSmall = run("writer", uniqueName(), "--size", "100");
        assertExit(ExitCodes.USAGE, tooSmall);
        writer.send("exit");
        assertExit(0, writer);
    }

    @Test
    void theReaderRefusesASegmentWithoutMessages() throws Exception {
        String name = uniqueName();
        assertExit(0, run("create", name, "--size", "1K"));
        ShmProcess empty = start("reader", name);
        empty.send("");
        empty.awaitLine("");
        empty.send("exit");
        assertExit(0, empty); // all zeros: nothing published yet
        assertExit(0, run("write", name, "plain text, not a writer's messages"));
        ShmProcess reader = start("reader", name);
        assertExit(ExitCodes.FAILURE, reader);
        assertTrue(reader.stderr().contains("no messages of `shm writer` here")
                && reader.stderr().contains("not a seqlock"), reader.diagnostics());
        assertEquals("data", info(name).get("kind"));
    }
}
