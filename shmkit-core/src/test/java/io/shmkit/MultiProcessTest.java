package io.shmkit;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.NativePeers;
import io.shmkit.testing.SegmentPeer;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Segments shared between separate JVM processes. */
class MultiProcessTest {

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    private static ChildProcess peer() throws IOException {
        ChildProcess p = ChildProcess.java(SegmentPeer.class);
        p.awaitPrefix("READY");
        return p;
    }

    private static void ok(ChildProcess p, String command) throws IOException {
        p.send(command);
        String reply = p.await(l -> l.startsWith("OK") || l.startsWith("ERR"), "a reply to " + command);
        assertTrue(reply.startsWith("OK"), command + " -> " + reply);
    }

    @Test
    void twoJvmsPassDataBothWays() throws IOException {
        String name = names.unique("2jvm");
        try (ChildProcess creator = peer(); ChildProcess opener = peer()) {
            ok(creator, "create " + name + " 65536");
            ok(creator, "write 0 hello from the creator");
            ok(opener, "open " + name);
            opener.send("read 0");
            assertEquals("hello from the creator", opener.awaitPrefix("READ "));
            ok(opener, "write 40000 reply from the opener");
            creator.send("read 40000");
            assertEquals("reply from the opener", creator.awaitPrefix("READ "));

            // and this JVM, a third process, sees both
            try (Segment s = SharedMemory.open(name); View v = s.map()) {
                assertEquals("hello from the creator", v.getString(0));
                assertEquals("reply from the opener", v.getString(40000));
                v.putString(20000, "from the test JVM");
            }
            creator.send("read 20000");
            assertEquals("from the test JVM", creator.awaitPrefix("READ "));
            ok(creator, "exit");
            ok(opener, "exit");
        }
    }

    @Test
    void segmentsOver4GiBWorkAtLargeOffsets() throws IOException {
        String name = names.unique("big");
        long size = 6L << 30; // sparse: only touched pages take memory
        long far = (5L << 30) + 12345;
        long nearFour = (4L << 30) - 3;
        try (ChildProcess creator = peer()) {
            ok(creator, "create " + name + " " + size);
            ok(creator, "write " + far + " beyond five GiB");
            try (Segment s = SharedMemory.open(name)) {
                assertEquals(size, s.size());
                try (View v = s.map(far, 100)) {
                    assertEquals("beyond five GiB", v.getString(0));
                }
                try (View v = s.map(nearFour, 64)) {
                    v.putString(0, "across the 4 GiB line");
                }
            }
            creator.send("read " + nearFour);
            assertEquals("across the 4 GiB line", creator.awaitPrefix("READ "));
            ok(creator, "exit");
        }
    }

    @Test
    void theLastHolderToCloseRemovesTheSegment() throws IOException {
        String name = names.unique("lastclose");
        try (ChildProcess creator = peer(); ChildProcess opener = peer()) {
            ok(creator, "create " + name + " 4096");
            ok(opener, "open " + name);
            assertEquals(2, SharedMemory.info(name).orElseThrow().holders());
            ok(creator, "close");
            assertTrue(SharedMemory.exists(name), "the opener still holds it");
            ok(opener, "exit");
            assertEquals(0, opener.waitFor());
            // exiting without close releases the hold too (the kernel drops the flock); the name is
            // now stale and an open reclaims it
            assertThrows(NoSuchFileException.class, () -> SharedMemory.open(name));
            assertFalse(SharedMemory.exists(name));
        }
    }

    @Test
    void holdersKilledWithSigkillLeaveAStaleSegmentThatTheNextCreateReclaims() throws IOException {
        String name = names.unique("sigkill");
        try (ChildProcess creator = peer(); ChildProcess opener = peer()) {
            ok(creator, "create " + name + " 4096");
            ok(creator, "write 0 old contents");
            ok(opener, "open " + name);
            creator.kill();
            opener.kill();
            SegmentInfo info = SharedMemory.info(name).orElseThrow();
            assertEquals(0, info.holders());
            assertTrue(info.stale());
            try (Segment fresh = SharedMemory.create(name, 8192); View v = fresh.map()) {
                assertTrue(fresh.wasCreated());
                assertEquals(8192, fresh.size());
                assertEquals("", v.getString(0), "a new, zeroed segment");
            }
            assertFalse(SharedMemory.exists(name));
        }
    }

    @Test
    void reclaimStaleRemovesSegmentsOfDeadHolders() throws IOException {
        String name = names.unique("reclaim");
        try (ChildProcess creator = peer()) {
            ok(creator, "create " + name + " 4096");
            creator.kill();
        }
        assertTrue(SharedMemory.list().stream().anyMatch(i -> i.name().equals(name) && i.stale()));
        assertTrue(SharedMemory.reclaimStale().contains(name));
        assertFalse(Files.exists(Path.of("/dev/shm", name)));
    }

    @Test
    void reclaimStaleInAnotherProcessNeverBreaksACreateInProgress() throws IOException {
        String marker = names.unique("reclaiming");
        String name = names.unique("created-meanwhile");
        try (ChildProcess reclaimer = peer();
             Segment running = SharedMemory.create(marker, 1, SegmentOptions.defaults().lifetime(Lifetime.PERSISTENT))) {
            ok(reclaimer, "reclaim-while " + marker);
            try {
                // Each create makes a temporary object and publishes it; a reclaimer must never
                // take a temporary in the making for one whose creator died.
                for (int i = 0; i < 10_000; i++) {
                    try (Segment s = SharedMemory.create(name, 4096)) {
                        assertTrue(s.wasCreated());
                    }
                }
            } finally {
                SharedMemory.remove(marker);
            }
            String reply = reclaimer.await(l -> l.startsWith("OK reclaimed") || l.startsWith("ERR"), "the reclaimer's end");
            assertTrue(reply.startsWith("OK reclaimed"), reply);
        }
    }

    @Test
    void reclaimStaleRemovesTheTemporaryOfACreatorThatDied() throws IOException {
        long deadPid;
        try (ChildProcess creator = peer()) {
            deadPid = creator.pid();
            creator.kill();
            creator.waitFor();
        }
        // What createShm leaves when its process dies between creating and publishing.
        Path temp = Path.of("/dev/shm/.shmkit-tmp-" + deadPid + "-" + Long.toHexString(System.nanoTime()));
        try {
            Files.write(temp, new byte[16]);
            assertTrue(SharedMemory.reclaimStale().contains(temp.getFileName().toString()));
            assertFalse(Files.exists(temp));
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Test
    void aProcessInThePosixLocaleListsSegmentsWithNonAsciiNames() throws IOException {
        String name = names.unique("данные-κοινά");
        List<String> command = new ArrayList<>(List.of("/usr/bin/env", "LC_ALL=C", "LANG=C"));
        command.addAll(ChildProcess.javaCommand());
        command.add(SegmentPeer.class.getName());
        try (Segment s = SharedMemory.create(name, 4096); ChildProcess lister = ChildProcess.start(command)) {
            lister.awaitPrefix("READY");
            // Names are UTF-8 in /dev/shm whatever the locale, as create and open make them.
            lister.send("listed " + name);
            assertEquals("OK listed true", lister.await(l -> l.startsWith("OK") || l.startsWith("ERR"), "the answer"));
        }
    }

    @Test
    void aSegmentAnotherProgramHoldsAnExclusiveFlockOnOpensWithoutWaiting() throws Exception {
        NativePeers.requirePython();
        // A C or Python program may flock(LOCK_EX) its own segment (as its own lock); shmkit's
        // closers never hold that lock on a persistent segment, so opening must not wait for it.
        String name = names.unique("flocked");
        String script = "import fcntl, os, sys\n"
                + "fd = os.open('/dev/shm/' + sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)\n"
                + "os.ftruncate(fd, 4096)\n"
                + "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                + "print('LOCKED', flush=True)\n"
                + "sys.stdin.readline()\n";
        try (ChildProcess owner = ChildProcess.start(List.of("python3", "-c", script, name))) {
            owner.awaitPrefix("LOCKED");
            try (Segment s = owner.callNotBlockedBy(() -> SharedMemory.open(name),
                    "open, for another program's exclusive flock on the segment,")) {
                assertEquals(4096, s.size());
                assertEquals(Lifetime.PERSISTENT, s.lifetime());
            }
        }
    }

    @Test
    void anOpenThatCannotRemoveAStaleSegmentSaysSoInsteadOfClaimingItRemovedIt() throws Exception {
        // Another user's stale segment in the sticky /dev/shm cannot be removed by an opener that
        // was allowed to open it; an immutable one (chattr +i) cannot be removed by anybody.
        String name = names.unique("stale-kept");
        Path path = Path.of("/dev/shm", name);
        try (ChildProcess creator = peer()) {
            ok(creator, "create " + name + " 4096");
            creator.kill();
        }
        assumeTrue(chattr("+i", path), "needs chattr +i on tmpfs (root, Linux 6.0 or later)");
        try {
            IOException e = assertThrows(IOException.class, () -> SharedMemory.open(name, Access.READ_ONLY));
            assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
            assertFalse(e.getMessage().contains("has been removed"), e.getMessage());
            assertTrue(e instanceof AccessDeniedException && e.getMessage().contains("stale"), e.toString());
        } finally {
            chattr("-i", path);
        }
    }

    private static boolean chattr(String flags, Path path) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("chattr", flags, path.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    @Test
    void aPersistentSegmentOutlivesItsCreator() throws IOException {
        String name = names.unique("persist");
        try (ChildProcess creator = peer()) {
            ok(creator, "create " + name + " 4096 persistent");
            ok(creator, "write 0 still here");
            ok(creator, "exit");
            assertEquals(0, creator.waitFor());
        }
        try (Segment s = SharedMemory.open(name); View v = s.map()) {
            assertEquals(Lifetime.PERSISTENT, s.lifetime());
            assertEquals("still here", v.getString(0));
        }
        assertTrue(SharedMemory.exists(name), "closing does not remove a persistent segment");
        assertTrue(SharedMemory.remove(name));
    }

    @Test
    void copyOnWriteInOneProcessIsInvisibleToAnother() throws IOException {
        String name = names.unique("cowproc");
        try (Segment s = SharedMemory.create(name, 4096); View v = s.map(); ChildProcess child = peer()) {
            v.putString(0, "shared value");
            ok(child, "open " + name + " COPY_ON_WRITE");
            ok(child, "write 0 private value");
            child.send("read 0");
            assertEquals("private value", child.awaitPrefix("READ "));
            assertEquals("shared value", v.getString(0));
            ok(child, "exit");
        }
    }
}
