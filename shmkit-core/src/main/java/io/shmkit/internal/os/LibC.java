package io.shmkit.internal.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FFM bindings to the parts of the GNU C library (Linux) that shmkit uses.
 *
 * <p>Every binding is a {@code static final MethodHandle}. Calls that can fail capture
 * {@code errno} through {@link Linker.Option#captureCallState}, into a buffer that belongs to the
 * call (a shared static buffer would be a race between threads), and report failure by throwing
 * {@link ErrnoException}; the backend turns that into an exception that names the object.
 *
 * <p>Numbers that differ between CPU architectures (open flags, system call numbers) are chosen
 * once from {@code os.arch}; x86-64 and AArch64 are supported.
 */
public final class LibC {

    private LibC() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));

    // open(2) flags: the generic values, except where x86-64 differs.
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MS_SYNC = 4;

    public static final int LOCK_SH = 1;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;
    public static final int LOCK_UN = 8;

    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int RENAME_NOREPLACE = 1;
    public static final int STATX_BASIC_STATS = 0x7ff;

    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_ISVTX = 01000;

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ENAMETOOLONG = 36;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EOPNOTSUPP = 95;
    public static final int ETIMEDOUT = 110;
    public static final int EOWNERDEAD = 130;

    public static final long SYS_FUTEX = AARCH64 ? 98 : 202;
    /** pidfd_open(2): the same number on every architecture (Linux 5.3+). */
    public static final long SYS_PIDFD_OPEN = 434;
    public static final int ENOSYS = 38;
    /** membarrier(2) (Linux 4.16+ for the expedited global commands). */
    public static final long SYS_MEMBARRIER = AARCH64 ? 283 : 324;
    public static final int MEMBARRIER_CMD_QUERY = 0;
    public static final int MEMBARRIER_CMD_GLOBAL_EXPEDITED = 1 << 1;
    public static final int MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 1 << 2;
    public static final short POLLIN = 1;
    public static final int FUTEX_WAIT = 0;
    public static final int FUTEX_WAKE = 1;
    public static final int FUTEX_WAIT_BITSET = 9;
    public static final int FUTEX_BITSET_MATCH_ANY = 0xffffffff;
    public static final int CLOCK_MONOTONIC = 1;

    private static final MemorySegment MAP_FAILED = MemorySegment.ofAddress(-1L);

    private static MethodHandle capturing(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(symbol(name), fd, options);
    }

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(symbol(name), fd);
    }

    private static MemorySegment symbol(String name) {
        return LOOKUP.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("C library function not found: " + name));
    }

    private static final MethodHandle OPEN = capturing("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = capturing("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FTRUNCATE = capturing("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FCHMOD = capturing("fchmod",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHOWN = capturing("fchown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FLOCK = capturing("flock",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLINK = capturing("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle RENAMEAT2 = capturing("renameat2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle STATX = capturing("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle MMAP = capturing("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = capturing("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MSYNC = capturing("msync",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FSETXATTR = capturing("fsetxattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FGETXATTR = capturing("fgetxattr",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle OPENDIR = capturing("opendir", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle READDIR = plain("readdir", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle CLOSEDIR = plain("closedir", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** Where d_name lies in glibc's struct dirent on 64-bit Linux (after d_ino, d_off, d_reclen, d_type). */
    private static final long DIRENT_NAME_OFFSET = 19;
    private static final MethodHandle LGETXATTR = capturing("lgetxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle SYSCALL6 = capturing("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(1));
    /** {@code syscall} without errno capture: for FUTEX_WAKE, whose errors nobody acts on, with no allocation. */
    private static final MethodHandle SYSCALL6_NO_ERRNO = LINKER.downcallHandle(symbol("syscall"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL2 = capturing("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SYSCALL3 = capturing("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle POLL = capturing("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PREAD = capturing("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle KILL = capturing("kill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETEUID = plain("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = plain("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPAGESIZE = plain("getpagesize", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle STRERROR = plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** Offsets in {@code struct statx}, whose layout is the same on every architecture. */
    public static final long STATX_SIZE = 256;
    public static final long STX_UID = 20;
    public static final long STX_GID = 24;
    public static final long STX_MODE = 28;
    public static final long STX_INO = 32;
    public static final long STX_SIZE = 40;
    public static final long STX_DEV_MAJOR = 136;
    public static final long STX_DEV_MINOR = 140;

    /** What {@link #fstat} and {@link #lstat} report about a file. */
    public record Stat(long dev, long ino, int uid, int gid, int mode, long size) {
        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }

        /** The permission bits (e.g. 0600), without the file type. */
        public int permissions() {
            return mode & 07777;
        }

        public boolean sameFile(Stat other) {
            return other != null && dev == other.dev && ino == other.ino;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static MemorySegment captureBuffer(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    private static RuntimeException unexpected(String function, Throwable t) {
        return new IllegalStateException("native call " + function + " failed unexpectedly", t);
    }

    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, mode);
            if (fd < 0) {
                throw new ErrnoException("open", errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("open", t);
        }
    }

    public static void close(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            int r = (int) CLOSE.invokeExact(state, fd);
            if (r < 0) {
                throw new ErrnoException("close", errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("close", t);
        }
    }

    /** Closes a descriptor while already handling a failure: errors are dropped. */
    public static void closeQuietly(int fd) {
        try {
            close(fd);
        } catch (ErrnoException ignored) {
            // The descriptor is released even when close reports an error (Linux semantics).
        }
    }

    public static void ftruncate(int fd, long size) throws ErrnoException {
        simple("ftruncate", (state) -> (int) FTRUNCATE.invokeExact(state, fd, size));
    }

    public static void fchmod(int fd, int mode) throws ErrnoException {
        simple("fchmod", (state) -> (int) FCHMOD.invokeExact(state, fd, mode));
    }

    public static void fchown(int fd, int uid, int gid) throws ErrnoException {
        simple("fchown", (state) -> (int) FCHOWN.invokeExact(state, fd, uid, gid));
    }

    public static void flock(int fd, int operation) throws ErrnoException {
        simple("flock", (state) -> (int) FLOCK.invokeExact(state, fd, operation));
    }

    /** {@code flock} that retries when a signal interrupts it. */
    public static void flockUninterrupted(int fd, int operation) throws ErrnoException {
        while (true) {
            try {
                flock(fd, operation);
                return;
            } catch (ErrnoException e) {
                if (e.errno() != EINTR) {
                    throw e;
                }
            }
        }
    }

    /** Non-blocking {@code flock}: true when the lock was taken, false when another holder prevents it. */
    public static boolean tryFlock(int fd, int operation) throws ErrnoException {
        try {
            flock(fd, operation | LOCK_NB);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == EAGAIN) {
                return false;
            }
            throw e;
        }
    }

    public static void unlink(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            simple("unlink", (state) -> (int) UNLINK.invokeExact(state, cpath));
        }
    }

    public static void renameNoReplace(String from, String to) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cfrom = arena.allocateFrom(from);
            MemorySegment cto = arena.allocateFrom(to);
            simple("renameat2", (state) -> (int) RENAMEAT2.invokeExact(
                    state, AT_FDCWD, cfrom, AT_FDCWD, cto, RENAME_NOREPLACE));
        }
    }

    public static Stat fstat(int fd) throws ErrnoException {
        return statx(fd, "", AT_EMPTY_PATH);
    }

    /** Stat of a path without following a final symbolic link; null when nothing is there. */
    public static Stat lstatOrNull(String path) throws ErrnoException {
        try {
            return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
        } catch (ErrnoException e) {
            if (e.errno() == ENOENT) {
                return null;
            }
            throw e;
        }
    }

    private static Stat statx(int dirfd, String path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int r = (int) STATX.invokeExact(state, dirfd, arena.allocateFrom(path), flags, STATX_BASIC_STATS, buf);
            if (r < 0) {
                throw new ErrnoException("statx", errno(state));
            }
            long dev = ((long) buf.get(JAVA_INT, STX_DEV_MAJOR) << 32) | (buf.get(JAVA_INT, STX_DEV_MINOR) & 0xffffffffL);
            return new Stat(dev, buf.get(JAVA_LONG, STX_INO), buf.get(JAVA_INT, STX_UID), buf.get(JAVA_INT, STX_GID),
                    Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, STX_MODE)), buf.get(JAVA_LONG, STX_SIZE));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("statx", t);
        }
    }

    /** Maps {@code length} bytes at {@code offset} of {@code fd}; returns the address. */
    public static long mmap(long length, int prot, int flags, int fd, long offset) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (addr.address() == MAP_FAILED.address()) {
                throw new ErrnoException("mmap", errno(state));
            }
            return addr.address();
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("mmap", t);
        }
    }

    public static void munmap(long address, long length) throws ErrnoException {
        MemorySegment addr = MemorySegment.ofAddress(address);
        simple("munmap", (state) -> (int) MUNMAP.invokeExact(state, addr, length));
    }

    public static void msync(long address, long length, int flags) throws ErrnoException {
        MemorySegment addr = MemorySegment.ofAddress(address);
        simple("msync", (state) -> (int) MSYNC.invokeExact(state, addr, length, flags));
    }

    public static void fsetxattr(int fd, String attribute, byte[] value) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cname = arena.allocateFrom(attribute);
            MemorySegment cvalue = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, cvalue, ValueLayout.JAVA_BYTE, 0, value.length);
            long len = value.length;
            simple("fsetxattr", (state) -> (int) FSETXATTR.invokeExact(state, fd, cname, cvalue, len, 0));
        }
    }

    /** The value of an extended attribute of an open file, or null when it has none (or the file system has none). */
    public static byte[] fgetxattr(int fd, String attribute) throws ErrnoException {
        return getxattr(null, fd, attribute);
    }

    /** Like {@link #fgetxattr} for a path, without following a final symbolic link. */
    public static byte[] lgetxattr(String path, String attribute) throws ErrnoException {
        return getxattr(path, -1, attribute);
    }

    private static byte[] getxattr(String path, int fd, String attribute) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            MemorySegment cname = arena.allocateFrom(attribute);
            MemorySegment buf = arena.allocate(256);
            long n = path == null
                    ? (long) FGETXATTR.invokeExact(state, fd, cname, buf, 256L)
                    : (long) LGETXATTR.invokeExact(state, arena.allocateFrom(path), cname, buf, 256L);
            if (n < 0) {
                int e = errno(state);
                if (e == ENODATA || e == EOPNOTSUPP) {
                    return null;
                }
                throw new ErrnoException(path == null ? "fgetxattr" : "lgetxattr", e);
            }
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("getxattr", t);
        }
    }

    /**
     * The names in a directory ("." and ".." left out), read as the bytes they are and decoded as
     * UTF-8, the encoding {@link #open} and the other calls here give names, whatever the locale
     * (java.nio decodes names with the locale's charset: in the POSIX locale a non-ASCII name came
     * back garbled, naming no file). Names that are not UTF-8 are left out: no call here can name them.
     */
    public static java.util.List<String> listDirectory(String path) throws ErrnoException {
        java.util.List<String> names = new java.util.ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            MemorySegment dir = (MemorySegment) OPENDIR.invokeExact(state, arena.allocateFrom(path));
            if (dir.address() == 0) {
                throw new ErrnoException("opendir", errno(state));
            }
            try {
                java.nio.charset.CharsetDecoder utf8 = java.nio.charset.StandardCharsets.UTF_8.newDecoder();
                MemorySegment entry;
                while ((entry = (MemorySegment) READDIR.invokeExact(dir)).address() != 0) {
                    MemorySegment name = entry.reinterpret(DIRENT_NAME_OFFSET + 256).asSlice(DIRENT_NAME_OFFSET);
                    long length = 0;
                    while (length < 256 && name.get(ValueLayout.JAVA_BYTE, length) != 0) {
                        length++;
                    }
                    byte[] bytes = name.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
                    String n;
                    try {
                        n = utf8.decode(java.nio.ByteBuffer.wrap(bytes)).toString();
                    } catch (java.nio.charset.CharacterCodingException notUtf8) {
                        continue;
                    }
                    if (!n.equals(".") && !n.equals("..")) {
                        names.add(n);
                    }
                }
            } finally {
                int ignored = (int) CLOSEDIR.invokeExact(dir);
            }
            return names;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("listDirectory", t);
        }
    }

    /**
     * {@code futex(2)} on a 32-bit word of shared memory (not FUTEX_PRIVATE: the word is shared
     * between processes). Returns the system call's result, or {@code -errno} on failure, so that
     * callers on a wait path need not catch exceptions.
     */
    public static long futex(MemorySegment word, int op, int value, MemorySegment timeout, int value3) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            long r = (long) SYSCALL6.invokeExact(state, SYS_FUTEX, word.address(), op, value, timeout,
                    MemorySegment.NULL, value3);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw unexpected("futex", t);
        }
    }

    /** Reads up to {@code length} bytes at {@code offset} of {@code fd}; returns what was read. */
    public static byte[] pread(int fd, int length, long offset) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            MemorySegment buf = arena.allocate(Math.max(1, length));
            long n = (long) PREAD.invokeExact(state, fd, buf, (long) length, offset);
            if (n < 0) {
                throw new ErrnoException("pread", errno(state));
            }
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected("pread", t);
        }
    }

    /**
     * {@code FUTEX_WAKE} on a shared word, allocating nothing (unlike {@link #futex}): it sits on
     * the release paths of the synchronization primitives. Returns how many were woken, or -1.
     */
    public static long futexWake(MemorySegment word, int count) {
        try {
            return (long) SYSCALL6_NO_ERRNO.invokeExact(SYS_FUTEX, word.address(), FUTEX_WAKE, count,
                    MemorySegment.NULL, MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw unexpected("futex", t);
        }
    }

    /** {@code pidfd_open(pid, 0)}: a close-on-exec descriptor referring to the process, or {@code -errno}. */
    public static int pidfdOpen(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            long r = (long) SYSCALL2.invokeExact(state, SYS_PIDFD_OPEN, pid, 0);
            return r < 0 ? -errno(state) : (int) r;
        } catch (Throwable t) {
            throw unexpected("pidfd_open", t);
        }
    }

    /** {@code membarrier(cmd, 0, 0)}: its result (a bit mask for the query), or {@code -errno}. */
    public static long membarrier(int cmd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            long r = (long) SYSCALL3.invokeExact(state, SYS_MEMBARRIER, cmd, 0, 0);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw unexpected("membarrier", t);
        }
    }

    /**
     * Whether {@code fd} is readable now ({@code poll} with timeout 0): for a pidfd, whether the
     * process has exited. Returns 1 readable, 0 not, or {@code -errno}.
     */
    public static int pollReadable(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
            int r = (int) POLL.invokeExact(state, pfd, 1L, 0);
            if (r < 0) {
                return -errno(state);
            }
            return r > 0 && (pfd.get(ValueLayout.JAVA_SHORT, 6) & POLLIN) != 0 ? 1 : 0;
        } catch (Throwable t) {
            throw unexpected("poll", t);
        }
    }

    /** {@code kill(pid, sig)}: 0, or {@code -errno}. Signal 0 only checks that the process exists. */
    public static int kill(int pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            int r = (int) KILL.invokeExact(state, pid, signal);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw unexpected("kill", t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw unexpected("geteuid", t);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw unexpected("getpid", t);
        }
    }

    public static int pageSize() {
        try {
            return (int) GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            throw unexpected("getpagesize", t);
        }
    }

    /** The C library's message for an errno value, e.g. "No such file or directory". */
    public static String strerror(int errno) {
        try {
            MemorySegment msg = (MemorySegment) STRERROR.invokeExact(errno);
            return msg.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** Symbolic name of common errno values, for messages. */
    public static String errnoName(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case ESRCH -> "ESRCH";
            case EINTR -> "EINTR";
            case EAGAIN -> "EAGAIN";
            case EACCES -> "EACCES";
            case EEXIST -> "EEXIST";
            case ENOTDIR -> "ENOTDIR";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case ENAMETOOLONG -> "ENAMETOOLONG";
            case ELOOP -> "ELOOP";
            case ENODATA -> "ENODATA";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case ETIMEDOUT -> "ETIMEDOUT";
            case 12 -> "ENOMEM";
            case 27 -> "EFBIG";
            case 9 -> "EBADF";
            case 19 -> "ENODEV";
            case 21 -> "EISDIR";
            case 24 -> "EMFILE";
            case 30 -> "EROFS";
            default -> "errno " + errno;
        };
    }

    @FunctionalInterface
    private interface Call {
        int invoke(MemorySegment state) throws Throwable;
    }

    private static void simple(String function, Call call) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = captureBuffer(arena);
            int r = call.invoke(state);
            if (r < 0) {
                throw new ErrnoException(function, errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(function, t);
        }
    }
}
