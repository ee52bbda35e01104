package io.shmkit;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.NativePeers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Mappings of regular files. */
class FileMappingTest {

    @TempDir
    Path dir;

    @Test
    void createsExtendsAndFlushes() throws IOException {
        Path file = dir.resolve("data.bin");
        try (Segment s = SharedMemory.mapFile(file, 10_000); View v = s.map(4100, 100)) {
            assertTrue(s.isFileBacked());
            assertTrue(s.wasCreated());
            assertEquals(Lifetime.PERSISTENT, s.lifetime());
            assertEquals(10_000, Files.size(file));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            v.putString(0, "on disk");
            v.flush();
        }
        byte[] content = Files.readAllBytes(file);
        assertEquals("on disk", new String(content, 4100, 7));
        try (Segment s = SharedMemory.mapFile(file, 20_000)) {
            assertFalse(s.wasCreated());
            assertEquals(20_000, Files.size(file));
        }
        try (Segment s = SharedMemory.mapFile(file); View v = s.map(4100, 10, Access.READ_ONLY)) {
            assertEquals(20_000, s.size());
            assertEquals("on disk", v.getString(0));
        }
        assertTrue(Files.exists(file), "file mappings never remove their file");
    }

    @Test
    void mapsAnExistingFileAsItIs() throws IOException {
        Path file = dir.resolve("existing.txt");
        Files.writeString(file, "plain text file\0");
        try (Segment s = SharedMemory.mapFile(file, 0, SegmentOptions.defaults().access(Access.READ_ONLY));
             View v = s.map()) {
            assertEquals(16, v.length());
            assertEquals("plain text file", v.getString(0));
            assertThrows(IllegalArgumentException.class, () -> v.putString(0, "x"));
        }
    }

    @Test
    void copyOnWriteNeverReachesTheFile() throws IOException {
        Path file = dir.resolve("cow.txt");
        Files.writeString(file, "abcdef");
        try (Segment s = SharedMemory.mapFile(file, 0, SegmentOptions.defaults().access(Access.COPY_ON_WRITE));
             View v = s.map()) {
            v.putBytes(0, "XYZ".getBytes());
            v.flush();
            assertEquals("XYZdef", new String(v.getBytes(0, 6)));
        }
        assertEquals("abcdef", Files.readString(file));
    }

    @Test
    void badFilesGiveClearErrors() throws IOException {
        Path missing = dir.resolve("missing");
        assertThrows(NoSuchFileException.class, () -> SharedMemory.mapFile(missing));
        assertFalse(Files.exists(missing));
        Path empty = Files.createFile(dir.resolve("empty"));
        ShmException e = assertThrows(ShmException.class, () -> SharedMemory.mapFile(empty));
        assertTrue(e.getMessage().contains("is empty"), e.getMessage());
        Path link = Files.createSymbolicLink(dir.resolve("link"), empty);
        assertThrows(AccessDeniedException.class, () -> SharedMemory.mapFile(link, 100));
        assertEquals(0, Files.size(empty), "the link's target must not be touched");
        ShmException d = assertThrows(ShmException.class, () -> SharedMemory.mapFile(dir, 100));
        assertTrue(d.getMessage().contains(dir.toString()), d.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.mapFile(empty, -1, SegmentOptions.defaults()));
    }

    @Test
    void aFileAnotherProgramHoldsAnExclusiveFlockOnMapsWithoutWaiting() throws Exception {
        NativePeers.requirePython();
        // Programs coordinate work on their data files with flock(1) or flock(2); mapping such a
        // file must not wait, unbounded, until they let go.
        Path file = dir.resolve("flocked.bin");
        Files.write(file, new byte[4096]);
        String script = "import fcntl, sys\n"
                + "f = open(sys.argv[1], 'rb')\n"
                + "fcntl.flock(f, fcntl.LOCK_EX)\n"
                + "print('LOCKED', flush=True)\n"
                + "sys.stdin.readline()\n";
        try (ChildProcess locker = ChildProcess.start(List.of("python3", "-c", script, file.toString()))) {
            locker.awaitPrefix("LOCKED");
            try (Segment s = locker.callNotBlockedBy(() -> SharedMemory.mapFile(file),
                    "mapFile, for another program's exclusive flock on the file,"); View v = s.map()) {
                assertEquals(4096, v.length());
            }
        }
    }

    @Test
    void aClosedFileMappingSaysItIsClosed() throws IOException {
        Segment s = SharedMemory.mapFile(dir.resolve("closed.bin"), 4096);
        s.close();
        // The closed handle's descriptor number is free: the next file opened may get it.
        try (Segment other = SharedMemory.mapFile(dir.resolve("other.bin"), 7 * 4096)) {
            assertThrows(IllegalStateException.class, s::size);
            assertThrows(IllegalStateException.class, s::map);
            assertThrows(IllegalStateException.class, () -> s.map(0, 10));
            assertEquals(7 * 4096, other.size());
        }
    }

    @Test
    void aFileTruncatedUnderAViewGivesAClearExceptionAlsoFromCompiledCode() throws IOException {
        Path file = dir.resolve("shrinks-hot.bin");
        try (Segment s = SharedMemory.mapFile(file, 64 * 4096); View v = s.map()) {
            long at = 40 * 4096;
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(100);
            }
            // Enough calls for the JIT to compile the loop with the view's methods inlined: the
            // promise holds for compiled code too, not only in the interpreter.
            for (int i = 0; i < 100_000; i++) {
                try {
                    v.getBytes(at, 64);
                    fail("read the missing pages");
                } catch (IllegalStateException expected) {
                    // the view's exception
                } catch (InternalError e) {
                    throw new AssertionError("getBytes let the JVM's InternalError through at call " + i, e);
                }
                try {
                    v.putBytes(at, new byte[64]);
                    fail("wrote the missing pages");
                } catch (IllegalStateException expected) {
                    // the view's exception
                } catch (InternalError e) {
                    throw new AssertionError("putBytes let the JVM's InternalError through at call " + i, e);
                }
            }
        }
    }

    @Test
    void aFileTruncatedUnderAViewGivesAClearException() throws IOException {
        Path file = dir.resolve("shrinks.bin");
        try (Segment s = SharedMemory.mapFile(file, 3 * 4096); View v = s.map()) {
            v.putString(2 * 4096, "tail");
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(100);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> v.getString(2 * 4096));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            // the raw accessor raises the JVM's InternalError, not a crash
            assertThrows(InternalError.class, () -> v.memory().get(ValueLayout.JAVA_BYTE, 2 * 4096));
            // the rest of the file's last page still reads, as zeros
            assertEquals(0, v.memory().get(ValueLayout.JAVA_BYTE, 100));
        }
    }
}
