package io.shmkit;

import io.shmkit.internal.layout.EventDescriptor;
import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.internal.layout.SeqLockDescriptor;
import io.shmkit.testing.Checksummed;
import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.NativePeers;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A C program (test resource {@code interop/sync_peer.c}, C11 atomics and futex(2), no shmkit
 * code) takes part through the documented layouts: proof that a C program can.
 */
class SyncInteropTest {

    @TempDir
    Path dir;

    private final TestSegments names = new TestSegments();
    private List<String> peer;

    @BeforeEach
    void compile() throws IOException {
        peer = NativePeers.c("sync_peer.c", dir);
    }

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    private ChildProcess c(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(peer);
        cmd.addAll(List.of(args));
        return ChildProcess.start(cmd);
    }

    @Test
    void aCProgramSetsAnEventThatJavaWaitsOn() throws Exception {
        String name = names.unique("cset");
        try (SharedEvent e = SharedEvent.create(name, false); Segment s = SharedMemory.open(name); View v = s.map()) {
            AtomicReference<Boolean> released = new AtomicReference<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    released.set(e.await(Duration.ofSeconds(60)));
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (v.memory().get(ValueLayout.JAVA_INT, EventDescriptor.WAITERS_OFFSET) < 1) {
                assertTrue(System.nanoTime() < deadline, "the Java waiter never slept");
                LockSupport.parkNanos(100_000);
            }
            try (ChildProcess p = c("event-set", name)) {
                assertEquals("SET", p.await(l -> true, "the C setter's report"));
                p.waitForSuccess();
            }
            assertTrue(waiter.join(Duration.ofSeconds(60)));
            assertEquals(Boolean.TRUE, released.get());
            assertFalse(e.isSet(), "auto reset: the Java waiter consumed it");
        }
    }

    @Test
    void javaSetsAnEventThatACProgramWaitsOn() throws Exception {
        String name = names.unique("cwait");
        try (SharedEvent e = SharedEvent.create(name, true); Segment s = SharedMemory.open(name); View v = s.map();
             ChildProcess p = c("event-wait", name, "60000")) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (v.memory().get(ValueLayout.JAVA_INT, EventDescriptor.WAITERS_OFFSET) < 1) {
                assertTrue(System.nanoTime() < deadline, "the C waiter never slept");
                LockSupport.parkNanos(100_000);
            }
            e.set();
            assertEquals("SET", p.await(l -> true, "the C waiter's report"));
            p.waitForSuccess();
        }
        String timed = names.unique("ctimeout");
        try (SharedEvent e = SharedEvent.create(timed, true); ChildProcess p = c("event-wait", timed, "200")) {
            assertEquals("TIMEOUT", p.await(l -> true, "the C waiter's report"));
        }
    }

    @Test
    void aCReaderNeverSeesATornValueWhileJavaWritesFlatOut() throws Exception {
        String name = names.unique("cseq");
        try (SeqLock lock = SeqLock.create(name, 1024)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().start(() -> {
                Random random = new Random(7);
                byte[][] values = new byte[32][];
                for (int i = 0; i < values.length; i++) {
                    values[i] = Checksummed.make(random, lock.capacity());
                }
                for (int n = 0; !stop.get(); n++) {
                    lock.write(values[n & 31]);
                }
            });
            try (ChildProcess p = c("seqlock-read", name, "1000")) {
                String line = p.awaitPrefix("READS ");
                p.waitForSuccess();
                System.out.println("C seqlock reader: READS " + line);
                String[] f = line.split(" ");
                assertEquals("0", f[2], "torn values seen by C: " + line);
                assertTrue(Long.parseLong(f[0]) > 1000, line);
                assertTrue(Long.parseLong(f[4]) > 1, "the value changed under the reader: " + line);
            } finally {
                stop.set(true);
                writer.join();
            }
        }
    }

    /**
     * A writer killed mid-write leaves the sequence odd until the next write: the C reader, the one
     * docs/sync.md shows C programs, must still end when its time is up (and say why) instead of
     * retrying forever.
     */
    @Test
    void aCReaderEndsWhenTheWriterDiedMidWrite() throws Exception {
        String name = names.unique("cdeadwriter");
        Process gone = new ProcessBuilder("true").start();
        assertTrue(gone.waitFor(30, TimeUnit.SECONDS));
        try (SeqLock lock = SeqLock.create(name, 64); Segment s = SharedMemory.open(name); View v = s.map()) {
            lock.write(Checksummed.make(new Random(3), lock.capacity()));
            // What a writer killed mid-write leaves: an odd sequence, and the writers' mutex naming it.
            long seq = v.memory().get(ValueLayout.JAVA_LONG, SeqLockDescriptor.SEQUENCE_OFFSET);
            v.memory().set(ValueLayout.JAVA_LONG, SeqLockDescriptor.SEQUENCE_OFFSET, seq + 1);
            v.memory().set(ValueLayout.JAVA_LONG, SeqLockDescriptor.WRITER_MUTEX_OFFSET
                    + MutexDescriptor.LOCK_WORD_OFFSET, MutexDescriptor.tag((int) gone.pid(), 7));
            try (ChildProcess p = c("seqlock-read", name, "200")) {
                String line = p.awaitPrefix("READS ");
                p.waitForSuccess();
                assertEquals("0 TORN 0 VERSIONS 0 UNFINISHED_WRITE " + (seq / 2 + 1), line,
                        "no value read, and the write in progress named");
            }
        }
    }

    /**
     * A C owner in a time namespace subtracts its boot-time offset from its start time as
     * docs/sync.md says, so Java outside reads the same start time and respects the live owner.
     */
    @Test
    void aCOwnerInATimeNamespaceKeepsTheLock() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("unshare", "--user", "--map-root-user", "--time", "--boottime", "86400"));
        cmd.addAll(peer);
        cmd.addAll(List.of("mutex-hold", names.unique("ctimens")));
        String name = cmd.getLast();
        try (SharedMutex m = SharedMutex.create(name); ChildProcess p = ChildProcess.start(cmd)) {
            String locked;
            try {
                locked = p.awaitPrefix("LOCKED");
            } catch (AssertionError noLock) {
                p.waitFor();
                assumeTrue(false, "could not run the C peer in a time namespace here: " + p.stderr());
                return;
            }
            assertEquals(p.pid(), m.ownerPid(), locked);
            assertFalse(m.tryLock(), "Java took the lock of a live C owner in a time namespace");
            assertFalse(m.tryLock(Duration.ofMillis(200)), "Java took the lock of a live C owner in a time namespace");
            p.send("unlock");
            p.awaitPrefix("UNLOCKED");
            assertEquals(0, m.abandonCount());
        }
    }

    /**
     * An unlock wakes one sleeper. When that one gives up instead of taking the free lock (here:
     * interrupted), it must pass the wake-up on, or the other sleepers sleep on beside a free lock
     * (shmkit's own waiters until the end of their 20 ms slice; the C sleeper here, which sleeps in
     * one long wait, until its timeout). The futex wakes the earliest sleeper first: the Java
     * waiter, asleep before the C one (unless its slice ended in between, which only makes the
     * attempt say nothing: hence a few attempts).
     */
    @Test
    void aWaiterThatGivesUpPassesTheWakeUpOn() throws Exception {
        String name = names.unique("passon");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            String address = "0x" + Long.toHexString(v.memory().address() + MutexDescriptor.LOCK_WORD_OFFSET);
            for (int attempt = 0; attempt < 10; attempt++) {
                try (ChildProcess sleeper = c("mutex-sleep", name, "5000")) {
                    sleeper.awaitPrefix("READY");
                    m.lock();
                    AtomicReference<Throwable> outcome = new AtomicReference<>();
                    Thread waiter = Thread.ofPlatform().start(() -> {
                        try {
                            m.lockInterruptibly();
                            m.unlock();
                        } catch (Throwable t) {
                            outcome.set(t);
                        }
                    });
                    awaitCondition(() -> sleepsInFutex("/proc/self/task/*/syscall", address), "the Java waiter asleep");
                    sleeper.send("go");
                    sleeper.awaitPrefix("SLEEPING");
                    awaitCondition(() -> sleepsInFutex("/proc/" + sleeper.pid() + "/syscall", null), "the C sleeper asleep");
                    waiter.interrupt();
                    m.unlock();
                    assertTrue(waiter.join(Duration.ofSeconds(60)));
                    assertTrue(outcome.get() instanceof InterruptedException, String.valueOf(outcome.get()));
                    assertEquals("WOKEN", sleeper.await(l -> !l.isEmpty(), "the C sleeper's report"),
                            "attempt " + attempt + ": the unlock's wake-up was lost with the waiter that gave up");
                    sleeper.waitForSuccess();
                }
            }
        }
    }

    /** Whether a thread whose /proc syscall file matches {@code glob} sleeps in futex(2) (on {@code address}, if given). */
    private static boolean sleepsInFutex(String glob, String address) {
        java.nio.file.Path dir = java.nio.file.Path.of(glob.substring(0, glob.lastIndexOf('/')));
        String file = glob.substring(glob.lastIndexOf('/') + 1);
        List<java.nio.file.Path> files = new ArrayList<>();
        if (dir.getFileName().toString().equals("*")) {
            try (var tasks = java.nio.file.Files.list(dir.getParent())) {
                tasks.forEach(t -> files.add(t.resolve(file)));
            } catch (IOException e) {
                return false;
            }
        } else {
            files.add(dir.resolve(file));
        }
        String futex = switch (System.getProperty("os.arch")) {
            case "aarch64" -> "98";
            default -> "202";
        };
        for (java.nio.file.Path f : files) {
            try {
                String[] call = java.nio.file.Files.readString(f).trim().split(" ");
                if (call[0].equals(futex) && (address == null || call[1].equals(address))) {
                    return true;
                }
            } catch (IOException | RuntimeException gone) {
                // a thread that ended meanwhile
            }
        }
        return false;
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            LockSupport.parkNanos(100_000);
        }
    }

    @Test
    void aCProgramHoldsTheMutexAndJavaTakesOverWhenItIsKilled() throws Exception {
        String name = names.unique("cmutex");
        try (SharedMutex m = SharedMutex.create(name)) {
            try (ChildProcess p = c("mutex-hold", name)) {
                p.awaitPrefix("LOCKED");
                assertEquals(p.pid(), m.ownerPid());
                assertFalse(m.tryLock(Duration.ofMillis(50)), "C holds it");
                // a Java waiter sleeping in the kernel is woken by C's unlock
                AtomicReference<Boolean> died = new AtomicReference<>();
                Thread waiter = Thread.ofPlatform().start(() -> {
                    try (SharedMutex.Guard g = m.lock()) {
                        died.set(g.ownerDied());
                    }
                });
                p.send("unlock");
                p.awaitPrefix("UNLOCKED");
                assertTrue(waiter.join(Duration.ofSeconds(60)));
                assertEquals(Boolean.FALSE, died.get());
            }
            try (ChildProcess p = c("mutex-hold", name)) {
                p.awaitPrefix("LOCKED");
                p.kill();
                try (SharedMutex.Guard g = m.lock()) {
                    assertTrue(g.ownerDied(), "a C owner killed with SIGKILL is detected too");
                    g.markConsistent();
                }
            }
        }
    }
}
