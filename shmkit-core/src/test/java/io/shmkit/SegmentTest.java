package io.shmkit;

import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Segments within one process, against the real OS. */
class SegmentTest {

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    @Test
    void createWriteOpenRead() throws IOException {
        String name = names.unique("basic");
        try (Segment created = SharedMemory.create(name, 4096); View w = created.map()) {
            assertTrue(created.wasCreated());
            assertEquals(4096, created.size());
            assertEquals("/dev/shm/" + name, created.path());
            assertEquals(Lifetime.UNTIL_LAST_CLOSE, created.lifetime());
            w.putString(0, "hello, shared world");
            try (Segment opened = SharedMemory.open(name); View r = opened.map()) {
                assertFalse(opened.wasCreated());
                assertEquals("hello, shared world", r.getString(0));
                // the user's bytes start at offset 0 of the OS object: no header of ours
                assertEquals('h', Files.readAllBytes(Path.of("/dev/shm", name))[0]);
            }
        }
    }

    @Test
    void createOfAnExistingNameFailsLikeErrorAlreadyExists() throws IOException {
        String name = names.unique("exists");
        try (Segment s = SharedMemory.create(name, 100)) {
            FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                    () -> SharedMemory.create(name, 100));
            assertEquals(name, e.getFile());
            assertTrue(e.getMessage().contains("/dev/shm/" + name), e.getMessage());
        }
    }

    @Test
    void openOfAMissingNameNamesIt() {
        String name = names.unique("missing");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> SharedMemory.open(name));
        assertEquals(name, e.getFile());
        assertTrue(e.getMessage().contains(name));
    }

    @Test
    void openOrCreateReportsWhichHappened() throws IOException {
        String name = names.unique("ooc");
        try (Segment first = SharedMemory.openOrCreate(name, 8192);
             Segment second = SharedMemory.openOrCreate(name, 4096)) {
            assertTrue(first.wasCreated());
            assertFalse(second.wasCreated());
            assertEquals(8192, second.size());
            ShmException e = assertThrows(ShmException.class, () -> SharedMemory.openOrCreate(name, 8193));
            assertTrue(e.getMessage().contains("smaller than the 8193 requested"), e.getMessage());
        }
    }

    @Test
    void badSizesAreRejected() {
        String name = names.unique("size");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(name, 0))
                .getMessage().contains("at least 1 byte"));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(name, -5));
        assertThrows(IllegalArgumentException.class, () -> SharedMemory.openOrCreate(name, 0));
    }

    @Test
    void badNamesNeverReachTheFileSystem() {
        for (String bad : List.of("", "a/b", "..", "../../tmp/x", "x\0y", "\n", "x".repeat(300))) {
            assertThrows(IllegalArgumentException.class, () -> SharedMemory.create(bad, 10), bad);
            assertThrows(IllegalArgumentException.class, () -> SharedMemory.open(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> SharedMemory.remove(bad), bad);
        }
    }

    @Test
    void win32PrefixesOpenTheSameSegment() throws IOException {
        String name = names.unique("prefix");
        try (Segment s = SharedMemory.create("Global\\" + name, 64); View v = s.map()) {
            v.putString(0, "x");
            try (Segment o = SharedMemory.open("Local\\" + name); Segment p = SharedMemory.open(name)) {
                assertEquals(name, o.name());
                assertEquals(64, p.size());
            }
        }
    }

    @Test
    void viewsAtUnalignedOffsetsSeeTheSameBytes() throws IOException {
        String name = names.unique("views");
        try (Segment s = SharedMemory.create(name, 3 * 4096 + 100); View whole = s.map()) {
            for (int i = 0; i < whole.length(); i++) {
                whole.memory().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            }
            for (long off : new long[] {0, 1, 4095, 4096, 4097, 3 * 4096 + 99}) {
                try (View v = s.map(off, s.size() - off)) {
                    assertEquals(off, v.offset());
                    assertEquals((byte) (off * 7), v.memory().get(ValueLayout.JAVA_BYTE, 0), "offset " + off);
                }
            }
            try (View v = s.map(5000, 10)) {
                v.putBytes(0, new byte[] {1, 2, 3});
                assertArrayEquals(new byte[] {1, 2, 3}, whole.getBytes(5000, 3));
                assertThrows(IndexOutOfBoundsException.class, () -> v.putBytes(8, new byte[3]));
                assertThrows(IndexOutOfBoundsException.class, () -> v.memory().get(ValueLayout.JAVA_BYTE, 10));
            }
        }
    }

    @Test
    void viewBoundsAreChecked() throws IOException {
        String name = names.unique("bounds");
        try (Segment s = SharedMemory.create(name, 1000)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> s.map(-1, 10))
                    .getMessage().contains("negative"));
            assertThrows(IllegalArgumentException.class, () -> s.map(0, 0));
            assertThrows(IllegalArgumentException.class, () -> s.map(0, -1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.map(999, 2));
            assertTrue(e.getMessage().contains("runs past the end") && e.getMessage().contains(name), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.map(Long.MAX_VALUE, 2));
            assertThrows(IllegalArgumentException.class, () -> s.map(1001, 1));
        }
    }

    @Test
    void readOnlyViewsRejectWrites() throws IOException {
        String name = names.unique("ro");
        try (Segment s = SharedMemory.create(name, 100); View rw = s.map()) {
            rw.putString(0, "keep");
            try (Segment ro = SharedMemory.open(name, Access.READ_ONLY); View v = ro.map()) {
                assertEquals(Access.READ_ONLY, v.access());
                assertThrows(IllegalArgumentException.class, () -> v.memory().set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
                assertThrows(IllegalArgumentException.class, () -> v.putString(0, "nope"));
                assertThrows(IllegalArgumentException.class, () -> v.putBytes(0, new byte[1]));
                assertThrows(AccessDeniedException.class, () -> ro.map(Access.READ_WRITE));
                assertEquals("keep", v.getString(0));
            }
            try (View v = s.map(Access.READ_ONLY)) {
                assertThrows(IllegalArgumentException.class, () -> v.memory().set(ValueLayout.JAVA_INT, 0, 1));
            }
        }
    }

    @Test
    void copyOnWriteWritesStayPrivate() throws IOException {
        String name = names.unique("cow");
        try (Segment s = SharedMemory.create(name, 8192); View shared = s.map()) {
            shared.putString(100, "original");
            try (Segment cowHandle = SharedMemory.open(name, Access.COPY_ON_WRITE); View cow = cowHandle.map()) {
                assertEquals("original", cow.getString(100));
                cow.putString(100, "private!");
                assertEquals("private!", cow.getString(100));
                assertEquals("original", shared.getString(100));
                try (Segment other = SharedMemory.open(name, Access.READ_ONLY); View v = other.map()) {
                    assertEquals("original", v.getString(100));
                }
            }
            try (View cow = s.map(Access.COPY_ON_WRITE)) {
                cow.putString(0, "also private");
                assertEquals("", shared.getString(0));
            }
        }
    }

    @Test
    void permissionsDefaultTo0600AndCanBeSet() throws IOException {
        String a = names.unique("perm-default");
        String b = names.unique("perm-0640");
        String c = names.unique("perm-set");
        try (Segment s1 = SharedMemory.create(a, 10);
             Segment s2 = SharedMemory.create(b, 10, SegmentOptions.defaults().permissions(0640));
             Segment s3 = SharedMemory.create(c, 10,
                     SegmentOptions.defaults().permissions(PosixFilePermissions.fromString("rw-rw-rw-")))) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(s1.path()))));
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(s2.path()))));
            // exact: the umask (usually 022) does not reduce it
            assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(s3.path()))));
            assertEquals(0640, SharedMemory.info(b).orElseThrow().permissions());
            assertEquals("rw-r-----", SharedMemory.info(b).orElseThrow().permissionsString());
        }
        assertThrows(IllegalArgumentException.class, () -> SegmentOptions.defaults().permissions(01777));
    }

    @Test
    void symbolicLinksAreNotFollowed() throws IOException {
        String target = names.unique("link-target");
        String link = names.unique("link");
        try (Segment s = SharedMemory.create(target, 10, SegmentOptions.defaults().lifetime(Lifetime.PERSISTENT))) {
            Files.createSymbolicLink(Path.of("/dev/shm", link), Path.of("/dev/shm", target));
            AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> SharedMemory.open(link));
            assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
            assertThrows(FileAlreadyExistsException.class, () -> SharedMemory.create(link, 10));
        }
    }

    @Test
    void nonRegularFilesAreRefused() throws Exception {
        String fifo = names.unique("fifo");
        Process p = new ProcessBuilder("mkfifo", "/dev/shm/" + fifo).start();
        assertEquals(0, p.waitFor());
        ShmException e = assertThrows(ShmException.class, () -> SharedMemory.open(fifo));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void segmentsOfAnotherUserAreRefusedUnlessAllowed() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root to give a segment to another user");
        String name = names.unique("foreign");
        try (Segment s = SharedMemory.create(name, 64, SegmentOptions.defaults().lifetime(Lifetime.PERSISTENT))) {
            s.map().putString(0, "theirs");
        }
        UserPrincipal nobody = Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.setOwner(Path.of("/dev/shm", name), nobody);
        AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> SharedMemory.open(name));
        assertTrue(e.getMessage().contains("owned by nobody") && e.getMessage().contains("allowForeignOwner"),
                e.getMessage());
        try (Segment s = SharedMemory.open(name, SegmentOptions.defaults().allowForeignOwner()); View v = s.map()) {
            assertEquals("theirs", v.getString(0));
        }
        assertEquals("nobody", SharedMemory.info(name).orElseThrow().ownerName());
    }

    @Test
    void lastCloseRemovesTheNameAndPersistentStays() throws IOException {
        String transientName = names.unique("transient");
        String persistentName = names.unique("persistent");
        Segment a = SharedMemory.create(transientName, 100);
        Segment b = SharedMemory.open(transientName);
        assertEquals(2, SharedMemory.info(transientName).orElseThrow().holders());
        a.close();
        assertTrue(SharedMemory.exists(transientName), "still held by the second handle");
        b.close();
        assertFalse(SharedMemory.exists(transientName));
        b.close(); // twice is fine

        try (Segment p = SharedMemory.create(persistentName, 100, SegmentOptions.defaults().lifetime(Lifetime.PERSISTENT))) {
            assertEquals(Lifetime.PERSISTENT, p.lifetime());
        }
        SegmentInfo info = SharedMemory.info(persistentName).orElseThrow();
        assertEquals(Lifetime.PERSISTENT, info.lifetime());
        assertEquals(0, info.holders());
        assertFalse(info.stale());
        assertTrue(SharedMemory.remove(persistentName));
        assertFalse(SharedMemory.remove(persistentName));
    }

    @Test
    void closingTheSegmentClosesItsViews() throws IOException {
        String name = names.unique("closeviews");
        Segment s = SharedMemory.create(name, 100);
        View v = s.map();
        s.close();
        assertThrows(IllegalStateException.class, () -> v.memory().get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, s::map);
        v.close();
    }

    @Test
    void flushOfAClosedViewSaysItIsClosed() throws IOException {
        String name = names.unique("flushclosed");
        try (Segment s = SharedMemory.create(name, 100)) {
            View v = s.map();
            v.close();
            assertThrows(IllegalStateException.class, v::flush);
            View w = s.map();
            s.close();
            assertThrows(IllegalStateException.class, w::flush);
        }
    }

    @Test
    void listAndInfoDescribeSegments() throws IOException {
        String name = names.unique("list");
        try (Segment s = SharedMemory.create(name, 12345)) {
            SegmentInfo info = SharedMemory.list().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
            assertEquals(12345, info.size());
            assertEquals("/dev/shm/" + name, info.path());
            assertEquals(0600, info.permissions());
            assertEquals(Lifetime.UNTIL_LAST_CLOSE, info.lifetime());
            assertTrue(info.managed());
            assertEquals(List.of((int) ProcessHandle.current().pid()), info.holderPids());
            assertEquals(System.getProperty("user.name"), info.ownerName());
            assertFalse(info.stale());
            assertEquals(info, SharedMemory.info(name).orElseThrow());
        }
        assertTrue(SharedMemory.info(name).isEmpty());
    }

    @Test
    void externalSegmentsArePersistentAndUnmanaged() throws IOException {
        String name = names.unique("external");
        Files.write(Path.of("/dev/shm", name), new byte[] {'h', 'i', 0}, java.nio.file.StandardOpenOption.CREATE_NEW);
        try (Segment s = SharedMemory.open(name); View v = s.map()) {
            assertEquals(Lifetime.PERSISTENT, s.lifetime());
            assertEquals("hi", v.getString(0));
        }
        SegmentInfo info = SharedMemory.info(name).orElseThrow();
        assertFalse(info.managed());
        assertTrue(Files.exists(Path.of("/dev/shm", name), LinkOption.NOFOLLOW_LINKS), "closing must not remove it");
    }

    @Test
    void stringsAreNulTerminatedUtf8() throws IOException {
        String name = names.unique("strings");
        try (Segment s = SharedMemory.create(name, 32); View v = s.map()) {
            // 10 bytes of UTF-8 and the NUL
            assertEquals(11, v.putString(0, "héllo €"));
            assertEquals("héllo €", v.getString(0));
            assertEquals(0, v.memory().get(ValueLayout.JAVA_BYTE, 10));
            assertThrows(IndexOutOfBoundsException.class, () -> v.putString(30, "abc"));
            assertThrows(IndexOutOfBoundsException.class, () -> v.getString(32));
            // no NUL: read to the end of the view
            v.putBytes(0, "x".repeat(32).getBytes());
            assertEquals("x".repeat(32), v.getString(0));
        }
    }
}
