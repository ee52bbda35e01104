package io.shmkit;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.NativePeers;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same segment, by the same name, from Python's {@code multiprocessing.shared_memory} and from
 * C's {@code shm_open}: both directions, each a real process.
 */
class InteropTest {

    @TempDir
    Path dir;

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    private static List<String> with(List<String> command, String... args) {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of(args));
        return cmd;
    }

    private void peerReadsWhatJavaWrote(List<String> peer, String expectedReply) throws IOException {
        String name = names.unique("j2peer");
        try (Segment s = SharedMemory.create(name, 8192); View v = s.map()) {
            v.putString(0, "hello from Java");
            try (ChildProcess p = ChildProcess.start(with(peer, "read", name))) {
                assertEquals("8192", p.awaitPrefix("SIZE "));
                assertEquals("hello from Java", p.awaitPrefix("READ "));
                p.awaitPrefix("OK");
                p.waitForSuccess();
            }
            assertEquals(expectedReply, v.getString(1024));
            assertTrue(SharedMemory.exists(name), "the peer must not have removed it");
        }
        assertFalse(SharedMemory.exists(name), "Java's last close removes it");
    }

    private void javaReadsWhatPeerWrote(List<String> peer, String expected) throws IOException {
        String name = names.unique("peer2j");
        try (ChildProcess p = ChildProcess.start(with(peer, "create", name, "4096"))) {
            p.awaitPrefix("READY");
            try (Segment s = SharedMemory.open(name); View v = s.map()) {
                assertEquals(4096, s.size());
                assertEquals(Lifetime.PERSISTENT, s.lifetime());
                assertEquals(expected, v.getString(0));
                v.putString(1024, "reply from Java");
            }
            assertTrue(SharedMemory.exists(name), "Java must not remove a segment another program made");
            p.send("go");
            assertEquals("reply from Java", p.awaitPrefix("READ "));
            p.waitForSuccess();
        }
        assertFalse(SharedMemory.exists(name), "the peer unlinked it");
    }

    @Test
    void pythonReadsWhatJavaWrote() throws IOException {
        peerReadsWhatJavaWrote(NativePeers.python("segment_peer.py", dir), "hello from python");
    }

    @Test
    void javaReadsWhatPythonWrote() throws IOException {
        javaReadsWhatPeerWrote(NativePeers.python("segment_peer.py", dir), "python made this");
    }

    @Test
    void cReadsWhatJavaWrote() throws IOException {
        peerReadsWhatJavaWrote(NativePeers.c("segment_peer.c", dir), "hello from C");
    }

    @Test
    void javaReadsWhatCWrote() throws IOException {
        javaReadsWhatPeerWrote(NativePeers.c("segment_peer.c", dir), "C made this");
    }
}
