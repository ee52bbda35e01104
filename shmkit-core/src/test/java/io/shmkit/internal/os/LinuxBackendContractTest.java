package io.shmkit.internal.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LinuxBackend} against the contract of every backend, and against what only Linux promises:
 * objects are files in {@code /dev/shm} with exact permission bits, their lifetime is an extended
 * attribute (or, on kernels whose tmpfs lacks user attributes, the sticky bit), temporaries in
 * the making are dot-files, and {@code /proc} is the source of pid namespaces.
 */
@EnabledOnOs(OS.LINUX)
class LinuxBackendContractTest extends OsBackendContract {

    @Override
    protected OsBackend backend() {
        return OsBackend.current();
    }

    @Override
    protected int eagain() {
        return LibC.EAGAIN;
    }

    @Override
    protected int etimedout() {
        return LibC.ETIMEDOUT;
    }

    @Override
    protected int eintr() {
        return LibC.EINTR;
    }

    @Test
    void theLinuxBackendKeepsObjectsInDevShm() {
        assertInstanceOf(LinuxBackend.class, os);
        assertEquals("linux", os.platform());
        assertEquals(255, os.maxNameBytes(), "NAME_MAX of tmpfs");
        assertEquals("/dev/shm/demo", os.objectPath("demo"), "where glibc's shm_open puts it");
        assertTrue(os.supportsCrossProcessWait(), "futex(2) without FUTEX_PRIVATE");
    }

    @Test
    void anObjectIsARegularFileThatRecordsItsLifetime() throws IOException {
        for (LifetimeTag lifetime : List.of(LifetimeTag.LAST_CLOSE, LifetimeTag.PERSISTENT)) {
            String name = unique("file-" + lifetime.name());
            NativeHandle h = create(name, 10000, lifetime);
            Path file = Path.of("/dev/shm", name);
            assertTrue(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS));
            assertEquals(10000, Files.size(file));
            assertEquals(file.toString(), os.info(name).path());
            assertEquals(10000, os.peek(name, 20000).length, "peek reads what the file has");
            try {
                byte[] tag = LibC.lgetxattr(file.toString(), LinuxBackend.XATTR);
                int mode = LibC.lstatOrNull(file.toString()).mode();
                if (tag != null) {
                    assertArrayEquals(lifetime.bytes(), tag);
                    assertEquals(0, mode & LibC.S_ISVTX, "no sticky bit beside the attribute");
                } else {
                    // A kernel whose tmpfs has no user attributes (before 6.6): the sticky bit marks LAST_CLOSE.
                    assertEquals(lifetime == LifetimeTag.LAST_CLOSE, (mode & LibC.S_ISVTX) != 0);
                }
            } catch (ErrnoException e) {
                throw new AssertionError(e);
            }
            close(h);
            assertEquals(lifetime == LifetimeTag.PERSISTENT, Files.exists(file, LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void permissionBitsAreExactWhateverTheUmask() throws IOException {
        // With the usual umask of 022, open(2) alone would have made 0666 into 0644.
        for (int mode : new int[] {0600, 0640, 0666}) {
            String name = unique("mode-" + Integer.toOctalString(mode));
            NativeHandle h = held(os.createShm(name, 64, mode, LifetimeTag.LAST_CLOSE));
            assertEquals(mode, h.permissions());
            assertEquals(mode, os.info(name).permissions());
            assertEquals(mode, posixBits(Path.of("/dev/shm", name)));
        }
        Path file = dir.resolve("mode.bin");
        NativeHandle f = held(os.openFile(file, 64, 0640, true, false));
        assertEquals(0640, f.permissions());
        assertEquals(0640, posixBits(file));
    }

    private static int posixBits(Path p) throws IOException {
        String s = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        int bits = 0;
        for (int i = 0; i < 9; i++) {
            bits = bits << 1 | (s.charAt(i) == '-' ? 0 : 1);
        }
        return bits;
    }

    @Test
    void temporariesOfADeadCreatorAreReclaimedButNotOnesInTheMaking() throws Exception {
        Path dead = Path.of(LinuxBackend.SHM_DIR + LinuxBackend.TEMP_PREFIX + unique("dead"));
        Path making = Path.of(LinuxBackend.SHM_DIR + LinuxBackend.TEMP_PREFIX + unique("making"));
        // A creator that died before publishing left a temporary that nothing holds.
        Files.write(dead, new byte[100]);
        // A creator at work holds its temporary locked from the start, as createShm does.
        int fd = LibC.open(making.toString(), LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0600);
        try {
            LibC.flock(fd, LibC.LOCK_SH);
            assertTrue(os.list().stream().noneMatch(i -> i.name().startsWith(".")), "temporaries are not segments");
            List<String> reclaimed = os.reclaimStale();
            assertTrue(reclaimed.contains(dead.getFileName().toString()), "reclaimed: " + reclaimed);
            assertFalse(reclaimed.contains(making.getFileName().toString()), "reclaimed: " + reclaimed);
            assertFalse(Files.exists(dead));
            assertTrue(Files.exists(making));
        } finally {
            LibC.closeQuietly(fd);
            Files.deleteIfExists(dead);
            Files.deleteIfExists(making);
        }
    }

    @Test
    void theStickyBitMarksLastCloseWhereTmpfsHasNoAttributes() throws Exception {
        String marked = unique("sticky");
        String external = unique("external");
        // What createShm leaves on a kernel before 6.6 whose holder died: mode 01600, no attribute.
        int fd = LibC.open(LinuxBackend.SHM_DIR + marked, LibC.O_RDWR | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0600);
        try {
            LibC.ftruncate(fd, 4096);
            LibC.fchmod(fd, 01600);
        } finally {
            LibC.closeQuietly(fd);
        }
        // What another program (C, Python) leaves: neither mark.
        Files.write(Path.of(LinuxBackend.SHM_DIR + external), new byte[4096]);
        ObjectInfo info = os.info(marked);
        assertEquals(LifetimeTag.LAST_CLOSE, info.lifetime());
        assertEquals(0600, info.permissions(), "the marker is not a permission");
        assertEquals(LifetimeTag.EXTERNAL, os.info(external).lifetime());
        List<String> reclaimed = os.reclaimStale();
        assertTrue(reclaimed.contains(marked), "reclaimed: " + reclaimed);
        assertFalse(reclaimed.contains(external), "another program's object is never stale: " + reclaimed);
        assertNull(os.info(marked));
        assertNotNull(os.info(external));
    }

    @Test
    void thePidNamespaceIdIsTheInodeOfProcSelfNsPid() throws IOException {
        long inode = (Long) Files.getAttribute(Path.of("/proc/self/ns/pid"), "unix:ino");
        assertNotEquals(0, inode);
        assertEquals(inode, os.pidNamespaceId());
    }
}
