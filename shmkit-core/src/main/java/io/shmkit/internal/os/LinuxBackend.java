package io.shmkit.internal.os;

import io.shmkit.ShmException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.shmkit.internal.os.LibC.EEXIST;
import static io.shmkit.internal.os.LibC.ENOENT;
import static io.shmkit.internal.os.LibC.LOCK_EX;
import static io.shmkit.internal.os.LibC.LOCK_SH;
import static io.shmkit.internal.os.LibC.O_CLOEXEC;
import static io.shmkit.internal.os.LibC.O_CREAT;
import static io.shmkit.internal.os.LibC.O_EXCL;
import static io.shmkit.internal.os.LibC.O_NOFOLLOW;
import static io.shmkit.internal.os.LibC.O_NONBLOCK;
import static io.shmkit.internal.os.LibC.O_RDONLY;
import static io.shmkit.internal.os.LibC.O_RDWR;

/**
 * Linux: named objects are files in {@code /dev/shm} (exactly where glibc's {@code shm_open}
 * puts them, so C, Python and Boost programs see the same objects), opened with {@code open(2)}
 * directly so that {@code O_NOFOLLOW} applies.
 *
 * <h2>Lifetime "until the last holder closes", crash-safely</h2>
 * Every handle holds a shared {@code flock} on its descriptor; the kernel drops it when the process
 * dies, whatever the way. A closing holder converts its lock to exclusive without blocking: it
 * succeeds only when no other holder is left, and then removes the name, after checking that the
 * name still refers to the inode it locked. An object is created under a temporary name, sized,
 * tagged and locked, and only then renamed into place ({@code renameat2(RENAME_NOREPLACE)}), so an
 * opener never sees a half-made object and a creator's crash leaves no name behind. An object
 * whose holders all died is "stale": the next create of that name, an open of it, or
 * {@link #reclaimStale()} removes it. The lifetime is recorded in the extended attribute
 * {@value #XATTR} (tmpfs supports user attributes since Linux 6.6); on older kernels the
 * sticky bit of the file mode, meaningless on regular files, marks it instead.
 */
final class LinuxBackend implements OsBackend {

    static final String SHM_DIR = "/dev/shm/";
    static final String XATTR = "user.shmkit.lifetime";
    static final String TEMP_PREFIX = ".shmkit-tmp-";
    private static final int NAME_MAX = 255;

    private final long pageSize = LibC.pageSize();
    private final int euid = LibC.geteuid();
    private final SecureRandom random = new SecureRandom();

    @Override
    public String platform() {
        return "linux";
    }

    @Override
    public int maxNameBytes() {
        return NAME_MAX;
    }

    @Override
    public String objectPath(String name) {
        return SHM_DIR + name;
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    // ---------------------------------------------------------------------------------------------
    // Create, open, close

    @Override
    public NativeHandle createShm(String name, long size, int mode, LifetimeTag lifetime) throws IOException {
        String path = objectPath(name);
        String temp = SHM_DIR + TEMP_PREFIX + LibC.getpid() + "-" + Long.toHexString(random.nextLong());
        int fd;
        try {
            fd = LibC.open(temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        } catch (ErrnoException e) {
            throw failure(name, path, "create", e);
        }
        boolean published = false;
        try {
            // Locked before anything else, so that reclaimStale() never takes a temporary in the
            // making for one whose creator died (until the lock is taken, the pid in the
            // temporary's name keeps it from doing so).
            LibC.flock(fd, LOCK_SH);
            LibC.ftruncate(fd, size);
            tagLifetime(fd, mode, lifetime);
            for (int attempt = 0; ; attempt++) {
                try {
                    // SYNC POINT: the rename publishes a fully sized, tagged and locked object;
                    // openers cannot see it earlier.
                    LibC.renameNoReplace(temp, path);
                    published = true;
                    break;
                } catch (ErrnoException e) {
                    if (e.errno() == EEXIST && attempt < 3 && reclaimIfStale(path)) {
                        continue;
                    }
                    if (e.errno() == EEXIST) {
                        throw new FileAlreadyExistsException(name, null,
                                "a shared memory segment with this name already exists (" + path + ")");
                    }
                    throw e;
                }
            }
            return new NativeHandle(fd, name, path, LibC.fstat(fd), lifetime, true, false, true);
        } catch (ErrnoException e) {
            if (e.errno() == LibC.ENOSPC || e.errno() == 27 /* EFBIG */) {
                throw new ShmException(name, "cannot create shared memory segment \"" + name + "\" of " + size
                        + " bytes: " + e.reason() + "; /dev/shm may be too small (in containers it is often 64 MiB)",
                        e.errno());
            }
            throw failure(name, path, "create", e);
        } finally {
            if (!published) {
                unlinkQuietly(temp);
                LibC.closeQuietly(fd);
            }
        }
    }

    private void tagLifetime(int fd, int mode, LifetimeTag lifetime) throws ErrnoException {
        int bits = mode & 0777;
        try {
            LibC.fsetxattr(fd, XATTR, lifetime.bytes());
        } catch (ErrnoException e) {
            if (e.errno() != LibC.EOPNOTSUPP) {
                throw e;
            }
            if (lifetime == LifetimeTag.LAST_CLOSE) {
                bits |= LibC.S_ISVTX;
            }
        }
        // Exact bits: open(2) would have applied the umask.
        LibC.fchmod(fd, bits);
    }

    private static LifetimeTag readLifetime(int fd, LibC.Stat stat) throws ErrnoException {
        byte[] tag = LibC.fgetxattr(fd, XATTR);
        if (tag == null) {
            return (stat.mode() & LibC.S_ISVTX) != 0 ? LifetimeTag.LAST_CLOSE : LifetimeTag.EXTERNAL;
        }
        return LifetimeTag.parse(tag);
    }

    /**
     * Removes the object at {@code path} when it is ours, has lifetime until last close, and no
     * holder is left. Returns true when the name is now free to try again.
     */
    private boolean reclaimIfStale(String path) throws ErrnoException {
        int fd;
        try {
            fd = LibC.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
        } catch (ErrnoException e) {
            return e.errno() == ENOENT;
        }
        try {
            LibC.Stat st = LibC.fstat(fd);
            if (!st.isRegularFile() || st.uid() != euid || readLifetime(fd, st) != LifetimeTag.LAST_CLOSE) {
                return false;
            }
            if (!LibC.tryFlock(fd, LOCK_EX)) {
                return false;
            }
            // Holding the exclusive lock on this inode, nobody else may remove or replace the name
            // (removers need the same lock; creators use RENAME_NOREPLACE).
            if (st.sameFile(LibC.lstatOrNull(path))) {
                unlinkQuietly(path);
            }
            return true;
        } finally {
            LibC.closeQuietly(fd);
        }
    }

    @Override
    public NativeHandle openShm(String name, boolean writable, boolean allowForeign) throws IOException {
        String path = objectPath(name);
        for (int attempt = 0; attempt < 1000; attempt++) {
            int fd;
            try {
                fd = LibC.open(path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
            } catch (ErrnoException e) {
                if (e.errno() == ENOENT) {
                    throw new NoSuchFileException(name, null, "no shared memory segment with this name (" + path + ")");
                }
                throw failure(name, path, "open", e);
            }
            boolean ok = false;
            try {
                LibC.Stat st = LibC.fstat(fd);
                checkRegular(name, path, st);
                checkOwner(name, path, st, allowForeign);
                LifetimeTag lifetime = readLifetime(fd, st);
                if (lifetime == LifetimeTag.LAST_CLOSE && LibC.tryFlock(fd, LOCK_EX)) {
                    if (st.sameFile(LibC.lstatOrNull(path))) {
                        try {
                            LibC.unlink(path);
                        } catch (ErrnoException e) {
                            if (e.errno() != ENOENT) {
                                // Another user's, in the sticky /dev/shm, or immutable: it stays.
                                throw failure(name, path, "remove the stale segment (its holders all died)", e);
                            }
                        }
                        throw new NoSuchFileException(name, null, "no shared memory segment with this name: " + path
                                + " was left by holders that all died, and has been removed");
                    }
                    continue;
                }
                if (lifetime == LifetimeTag.LAST_CLOSE) {
                    // Waits out a closer that holds the lock exclusively while it removes the name.
                    LibC.flockUninterrupted(fd, LOCK_SH);
                } else {
                    // No closer ever holds a persistent or external object's lock exclusively, but
                    // the program that made it may (as its own lock): do not wait for it.
                    LibC.tryFlock(fd, LOCK_SH);
                }
                if (!st.sameFile(LibC.lstatOrNull(path))) {
                    // Removed (its last holder closed) or replaced while we were locking it.
                    continue;
                }
                ok = true;
                return new NativeHandle(fd, name, path, st, lifetime, writable, false, false);
            } catch (ErrnoException e) {
                throw failure(name, path, "open", e);
            } finally {
                if (!ok) {
                    LibC.closeQuietly(fd);
                }
            }
        }
        throw new ShmException(name, "cannot open shared memory segment \"" + name
                + "\": it was removed and re-created 1000 times while opening it", 0);
    }

    @Override
    public NativeHandle openFile(Path file, long createSize, int mode, boolean writable, boolean allowForeign)
            throws IOException {
        String path = file.toAbsolutePath().toString();
        int access = (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
        int fd;
        boolean created = false;
        try {
            if (createSize > 0 && writable) {
                try {
                    fd = LibC.open(path, access | O_CREAT | O_EXCL, 0600);
                    created = true;
                } catch (ErrnoException e) {
                    if (e.errno() != EEXIST) {
                        throw e;
                    }
                    fd = LibC.open(path, access, 0);
                }
            } else {
                fd = LibC.open(path, access, 0);
            }
        } catch (ErrnoException e) {
            if (e.errno() == ENOENT) {
                throw new NoSuchFileException(path, null, createSize > 0 && !writable
                        ? "no such file, and a read-only mapping cannot create it" : "no such file");
            }
            throw failure(path, path, "open", e);
        }
        boolean ok = false;
        try {
            if (created) {
                LibC.fchmod(fd, mode & 0777);
            }
            LibC.Stat st = LibC.fstat(fd);
            checkRegular(path, path, st);
            checkOwner(path, path, st, allowForeign);
            if (createSize > st.size()) {
                if (!writable) {
                    throw new ShmException(path, "file " + path + " is " + st.size() + " bytes, smaller than the "
                            + createSize + " requested, and it is opened read-only so it cannot be extended", 0);
                }
                LibC.ftruncate(fd, createSize);
                st = LibC.fstat(fd);
            }
            if (st.size() == 0) {
                throw new ShmException(path, "file " + path + " is empty: give a size to extend it to", 0);
            }
            // Files are persistent: the shared lock only marks a holder, as on segments. Another
            // program may hold an exclusive flock on its own file (flock(1)); mapping must not wait
            // for it, so the lock is taken only when that is free.
            LibC.tryFlock(fd, LOCK_SH);
            ok = true;
            return new NativeHandle(fd, path, path, st, LifetimeTag.PERSISTENT, writable, true, created);
        } catch (ErrnoException e) {
            throw failure(path, path, "open", e);
        } finally {
            if (!ok) {
                LibC.closeQuietly(fd);
                if (created) {
                    unlinkQuietly(path);
                }
            }
        }
    }

    private static void checkRegular(String name, String path, LibC.Stat st) throws ShmException {
        if (!st.isRegularFile()) {
            throw new ShmException(name, path + " is not a regular file (mode "
                    + Integer.toOctalString(st.mode()) + "); refusing to map it", 0);
        }
    }

    private void checkOwner(String name, String path, LibC.Stat st, boolean allowForeign) throws AccessDeniedException {
        if (!allowForeign && st.uid() != euid) {
            throw new AccessDeniedException(name, null, path + " is owned by " + userName(st.uid()) + " (uid "
                    + st.uid() + "), not by this user (uid " + euid + "); "
                    + "open it with SegmentOptions.allowForeignOwner() (CLI: --allow-foreign) if you trust its owner");
        }
    }

    @Override
    public void close(NativeHandle handle) {
        if (handle.closed) {
            return;
        }
        handle.closed = true;
        if (handle.lifetime == LifetimeTag.LAST_CLOSE) {
            try {
                // Not atomic: a failed conversion drops our shared lock, which is what closing does anyway.
                if (LibC.tryFlock(handle.fd, LOCK_EX)) {
                    LibC.Stat now = LibC.lstatOrNull(handle.path);
                    if (now != null && now.dev() == handle.dev && now.ino() == handle.ino) {
                        unlinkQuietly(handle.path);
                    }
                }
            } catch (ErrnoException ignored) {
                // The name stays; it is stale now and is reclaimed by the next create or open.
            }
        }
        LibC.closeQuietly(handle.fd);
    }

    @Override
    public long currentSize(NativeHandle handle) throws IOException {
        try {
            return LibC.fstat(handle.fd).size();
        } catch (ErrnoException e) {
            throw failure(handle.name, handle.path, "stat", e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Mapping

    @Override
    public MemorySegment map(NativeHandle handle, long offset, long length, int mode, Arena arena) throws IOException {
        if (mode == 1 && !handle.writable) {
            throw new AccessDeniedException(handle.name, null, "cannot map a read-write view: the segment was opened read-only");
        }
        int prot = mode == 0 ? LibC.PROT_READ : LibC.PROT_READ | LibC.PROT_WRITE;
        int flags = mode == 2 ? LibC.MAP_PRIVATE : LibC.MAP_SHARED;
        long address;
        try {
            address = LibC.mmap(length, prot, flags, handle.fd, offset);
        } catch (ErrnoException e) {
            throw failure(handle.name, handle.path, "map " + length + " bytes at offset " + offset + " of", e);
        }
        return MemorySegment.ofAddress(address).reinterpret(length, arena, s -> unmapQuietly(address, length));
    }

    private static void unmapQuietly(long address, long length) {
        try {
            LibC.munmap(address, length);
        } catch (ErrnoException ignored) {
            // Only fails for arguments we never pass; nothing useful to do during cleanup.
        }
    }

    @Override
    public void flush(MemorySegment mapping, String name) throws IOException {
        try {
            LibC.msync(mapping.address(), mapping.byteSize(), LibC.MS_SYNC);
        } catch (ErrnoException e) {
            throw failure(name, name, "flush", e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Inspection and removal

    @Override
    public List<ObjectInfo> list() throws IOException {
        Map<String, List<Integer>> holders = flockHolders();
        List<ObjectInfo> result = new ArrayList<>();
        for (String name : shmNames()) {
            if (name.startsWith(".")) {
                continue;
            }
            ObjectInfo info = describe(name, holders);
            if (info != null) {
                result.add(info);
            }
        }
        result.sort((a, b) -> a.name().compareTo(b.name()));
        return result;
    }

    @Override
    public ObjectInfo info(String name) throws IOException {
        return describe(name, flockHolders());
    }

    private ObjectInfo describe(String name, Map<String, List<Integer>> holders) throws IOException {
        String path = objectPath(name);
        try {
            LibC.Stat st = LibC.lstatOrNull(path);
            if (st == null || !st.isRegularFile()) {
                return null;
            }
            LifetimeTag lifetime;
            try {
                byte[] tag = LibC.lgetxattr(path, XATTR);
                lifetime = tag != null ? LifetimeTag.parse(tag)
                        : (st.mode() & LibC.S_ISVTX) != 0 ? LifetimeTag.LAST_CLOSE : LifetimeTag.EXTERNAL;
            } catch (ErrnoException e) {
                lifetime = LifetimeTag.EXTERNAL;
            }
            List<Integer> pids = holders.getOrDefault(lockKey(st), List.of());
            return new ObjectInfo(name, path, st.size(), st.uid(), userName(st.uid()), st.permissions() & 0777,
                    lifetime, pids);
        } catch (ErrnoException e) {
            throw failure(name, path, "inspect", e);
        }
    }

    private static String lockKey(LibC.Stat st) {
        return Long.toHexString(st.dev() >>> 32) + ":" + Long.toHexString(st.dev() & 0xffffffffL) + ":" + st.ino();
    }

    /** Parses /proc/locks: for each "major:minor:inode" with flock locks, the pids holding them. */
    private static Map<String, List<Integer>> flockHolders() {
        Map<String, List<Integer>> result = new HashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/locks"));
        } catch (IOException e) {
            return result;
        }
        for (String line : lines) {
            String[] t = line.trim().split("\\s+");
            // "1: FLOCK  ADVISORY  READ 1234 00:1a:5678 0 EOF"; waiters have "->" after the number.
            if (t.length < 6 || !t[1].equals("FLOCK")) {
                continue;
            }
            String[] id = t[5].split(":");
            if (id.length != 3) {
                continue;
            }
            try {
                String key = Long.toHexString(Long.parseLong(id[0], 16)) + ":" + Long.toHexString(Long.parseLong(id[1], 16))
                        + ":" + Long.parseLong(id[2]);
                result.computeIfAbsent(key, k -> new ArrayList<>()).add(Integer.parseInt(t[4]));
            } catch (NumberFormatException ignored) {
                // A line in a format we do not know: skip it.
            }
        }
        return result;
    }

    @Override
    public boolean remove(String name) throws IOException {
        String path = objectPath(name);
        try {
            LibC.Stat st = LibC.lstatOrNull(path);
            if (st == null) {
                return false;
            }
            LibC.unlink(path);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == ENOENT) {
                return false;
            }
            throw failure(name, path, "remove", e);
        }
    }

    @Override
    public List<String> reclaimStale() throws IOException {
        List<String> reclaimed = new ArrayList<>();
        for (String name : shmNames()) {
            String path = SHM_DIR + name;
            try {
                if (name.startsWith(TEMP_PREFIX)) {
                    if (reclaimTemp(path)) {
                        reclaimed.add(name);
                    }
                } else if (!name.startsWith(".") && ownedRegularFile(path) && reclaimIfStale(path)) {
                    reclaimed.add(name);
                }
            } catch (ErrnoException ignored) {
                // Not ours to judge (permissions) or gone meanwhile.
            }
        }
        return reclaimed;
    }

    /** The names in /dev/shm, as UTF-8 whatever the locale (the encoding open(2) is given them in). */
    private static List<String> shmNames() throws IOException {
        try {
            return LibC.listDirectory(SHM_DIR);
        } catch (ErrnoException e) {
            throw failure(SHM_DIR, SHM_DIR, "list", e);
        }
    }

    private boolean ownedRegularFile(String path) throws ErrnoException {
        LibC.Stat st = LibC.lstatOrNull(path);
        return st != null && st.isRegularFile() && st.uid() == euid;
    }

    private boolean reclaimTemp(String path) throws ErrnoException {
        // createShm's lock on its temporary comes one call after open(O_CREAT): in between, the
        // temporary is unlocked although its creator is at work. The creator's pid is in the name;
        // while a process of that pid runs, the temporary is left alone.
        int creator = temporaryCreator(path.substring(SHM_DIR.length()));
        if (creator > 0 && LibC.kill(creator, 0) != -LibC.ESRCH) {
            return false;
        }
        int fd = LibC.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
        try {
            LibC.Stat st = LibC.fstat(fd);
            if (st.uid() != euid || !LibC.tryFlock(fd, LOCK_EX)) {
                return false;
            }
            unlinkQuietly(path);
            return true;
        } finally {
            LibC.closeQuietly(fd);
        }
    }

    /** The pid in a temporary's name ({@code .shmkit-tmp-PID-RANDOM}), or 0 when there is none. */
    private static int temporaryCreator(String name) {
        int end = name.indexOf('-', TEMP_PREFIX.length());
        try {
            return end < 0 ? 0 : Integer.parseInt(name.substring(TEMP_PREFIX.length(), end));
        } catch (NumberFormatException notOurs) {
            return 0;
        }
    }

    private static void unlinkQuietly(String path) {
        try {
            LibC.unlink(path);
        } catch (ErrnoException ignored) {
            // Gone already, or not ours to remove.
        }
    }

    private static String userName(int uid) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length > 2 && f[2].equals(Integer.toString(uid))) {
                    return f[0];
                }
            }
        } catch (IOException ignored) {
            // No passwd file (some containers): the number will do.
        }
        return Integer.toString(uid);
    }

    /** Maps an OS failure to the Java exception people already handle, naming the object and the OS error. */
    static IOException failure(String name, String path, String operation, ErrnoException e) {
        String reason = "cannot " + operation + " " + path + ": " + e.reason();
        return switch (e.errno()) {
            case ENOENT -> new NoSuchFileException(name, null, reason);
            case EEXIST -> new FileAlreadyExistsException(name, null, reason);
            case LibC.EACCES, LibC.EPERM -> new AccessDeniedException(name, null, reason);
            case LibC.ELOOP -> new AccessDeniedException(name, null, path + " is a symbolic link; shmkit does not follow links");
            default -> new ShmException(name, reason, e.errno());
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Waiting and processes

    @Override
    public int waitOnAddress(MemorySegment word, int expected, long timeoutNanos) {
        if (timeoutNanos < 0) {
            return (int) LibC.futex(word, LibC.FUTEX_WAIT, expected, MemorySegment.NULL, 0);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            ts.set(ValueLayout.JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
            ts.set(ValueLayout.JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            return (int) LibC.futex(word, LibC.FUTEX_WAIT, expected, ts, 0);
        }
    }

    @Override
    public int wakeAddress(MemorySegment word, int count) {
        long r = LibC.futexWake(word, count);
        return (int) Math.max(0, r);
    }

    /** Whether this kernel offers the expedited global membarrier commands (asked once per process). */
    private static final class Membarrier {
        static final boolean AVAILABLE = available();
        private static volatile boolean joined;

        private static boolean available() {
            long mask = LibC.membarrier(LibC.MEMBARRIER_CMD_QUERY);
            int needed = LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED | LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
            return mask >= 0 && (mask & needed) == needed;
        }

        static synchronized boolean join() {
            if (!joined && AVAILABLE) {
                joined = LibC.membarrier(LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
            }
            return joined;
        }
    }

    @Override
    public boolean joinProcessWideBarriers() {
        return Membarrier.joined || Membarrier.join();
    }

    @Override
    public boolean processWideBarrier() {
        return Membarrier.AVAILABLE && LibC.membarrier(LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
    }

    @Override
    public boolean supportsCrossProcessWait() {
        return true;
    }

    @Override
    public boolean mayBeAlive(int pid, int startTimeLow32) {
        if (pid <= 0) {
            return false;
        }
        // kill(pid, 0) is the cheap first answer: ESRCH means no process has the pid at all.
        // EPERM (another user's process) still means it exists.
        if (LibC.kill(pid, 0) == -LibC.ESRCH) {
            return false;
        }
        long start = statStartTime(pid);
        if (start == STAT_MISSING) {
            // Under hidepid another user's entry looks missing, as does one that exited just now:
            // a pid that kill(pid, 0) still finds is presumed to be the owner, never taken for dead.
            return LibC.kill(pid, 0) != -LibC.ESRCH;
        }
        if (start == STAT_ZOMBIE) {
            return false; // a zombie: dead, only not yet reaped by its parent
        }
        if (start == STAT_UNREADABLE || start == STAT_UNPARSABLE) {
            return true;
        }
        // A different start time means the pid now belongs to another process.
        return (int) start == startTimeLow32;
    }

    @Override
    public boolean isAlive(int pid, long startTime) {
        if (pid <= 0 || LibC.kill(pid, 0) == -LibC.ESRCH) {
            return false;
        }
        long start = statStartTime(pid);
        if (start == STAT_MISSING || start == STAT_UNREADABLE) {
            // Hidden or unreadable (/proc mounted with hidepid, another user's process), or gone
            // just now: a pid that kill(pid, 0) still finds is presumed to be the owner.
            return LibC.kill(pid, 0) != -LibC.ESRCH;
        }
        if (start == STAT_ZOMBIE) {
            return false; // a zombie: dead, only not yet reaped by its parent
        }
        return start == STAT_UNPARSABLE || startTime == ANY_START_TIME || start == startTime;
    }

    /** {@link #statStartTime}: /proc/PID/stat does not exist (no such process, or hidden from us). */
    private static final long STAT_MISSING = -1;
    /** {@link #statStartTime}: /proc/PID/stat exists but could not be read. */
    private static final long STAT_UNREADABLE = -2;
    /** {@link #statStartTime}: the process is a zombie (all its threads ended, not yet reaped) or dying. */
    private static final long STAT_ZOMBIE = -3;
    /** {@link #statStartTime}: /proc/PID/stat was read but is not in the expected format. */
    private static final long STAT_UNPARSABLE = -4;

    /**
     * The start time of process {@code pid} (field 22 of {@code /proc/PID/stat}, clock ticks
     * since boot, never negative), or one of the negative {@code STAT_*} answers. The one parser
     * of that file: callers differ only in what each answer means to them.
     *
     * <p>The kernel adds the <em>reader's</em> time namespace boot-time offset to that field, so a
     * process in a time namespace ({@code unshare --time}, containers, CRIU restores) and one
     * outside would read different start times for the same process, and each take the other's
     * live lock for that of a dead owner whose pid was reused. The offset is taken off again
     * ({@link TimeNamespace}): every process reads the start time as the initial time namespace
     * shows it.
     */
    private static long statStartTime(int pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        } catch (NoSuchFileException gone) {
            return STAT_MISSING;
        } catch (IOException | RuntimeException unreadable) {
            return STAT_UNREADABLE;
        }
        try {
            // Field 2 (comm) may contain spaces and parentheses: count fields after the last ')'.
            // f[0] is field 3 (state); num_threads is field 20; starttime is field 22.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // The state is the first thread's: after main() ends with pthread_exit it is Z while
            // the other threads run on (and may hold locks). Only a zombie left alone in its
            // thread group is a dead process.
            if ((f[0].equals("Z") || f[0].equals("X")) && Integer.parseInt(f[20 - 3]) <= 1) {
                return STAT_ZOMBIE;
            }
            long start = Long.parseLong(f[22 - 3]) - TimeNamespace.BOOTTIME_OFFSET_TICKS;
            return start >= 0 ? start : STAT_UNPARSABLE;
        } catch (RuntimeException unparsable) {
            return STAT_UNPARSABLE;
        }
    }

    /** This process's time namespace (read once). */
    private static final class TimeNamespace {
        /** The unit of the times in /proc/PID/stat: USER_HZ, 100 on every architecture Linux runs shmkit on. */
        private static final long TICKS_PER_SECOND = 100;
        /**
         * The boot-time offset of this process's time namespace in clock ticks ({@code boottime}
         * in {@code /proc/self/timens_offsets}; 0 in the initial namespace, or without time
         * namespaces). Exact for offsets in whole ticks, as {@code unshare --boottime} sets them;
         * an offset with a fraction of a tick may leave the start time one tick off.
         */
        static final long BOOTTIME_OFFSET_TICKS = boottimeOffsetTicks();

        private static long boottimeOffsetTicks() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/timens_offsets"))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length == 3 && f[0].equals("boottime")) {
                        long seconds = Long.parseLong(f[1]);
                        long nanos = Long.parseLong(f[2]);
                        return seconds * TICKS_PER_SECOND + Math.floorDiv(nanos * TICKS_PER_SECOND, 1_000_000_000L);
                    }
                }
            } catch (IOException | RuntimeException noTimeNamespaces) {
                // Before Linux 5.6, or without CONFIG_TIME_NS: no offsets.
            }
            return 0;
        }
    }

    @Override
    public ProcessWatch watch(int pid, int startTimeLow32) {
        if (pid <= 0) {
            return DEAD;
        }
        // Open the handle first, then check the start time: if the process with that pid is the
        // one recorded now, the handle refers to it for good, whatever happens to the pid later.
        int fd = LibC.pidfdOpen(pid);
        if (fd == -LibC.ESRCH) {
            return DEAD;
        }
        if (fd < 0) {
            // No pidfd (ENOSYS before Linux 5.3, or refused): ask /proc every time.
            return OsBackend.super.watch(pid, startTimeLow32);
        }
        if (!mayBeAlive(pid, startTimeLow32)) {
            LibC.closeQuietly(fd);
            return DEAD;
        }
        return new ProcessWatch() {
            private boolean closed;

            @Override
            public boolean mayBeAlive() {
                // A pidfd turns readable when its process exits (zombies included).
                return closed || LibC.pollReadable(fd) != 1;
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    LibC.closeQuietly(fd);
                }
            }
        };
    }

    private static final ProcessWatch DEAD = new ProcessWatch() {
        @Override
        public boolean mayBeAlive() {
            return false;
        }

        @Override
        public void close() {
        }
    };

    @Override
    public byte[] peek(String name, int length) {
        int fd;
        try {
            fd = LibC.open(objectPath(name), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
        } catch (ErrnoException e) {
            return null;
        }
        try {
            if (!LibC.fstat(fd).isRegularFile()) {
                return null;
            }
            return LibC.pread(fd, length, 0);
        } catch (ErrnoException e) {
            return null;
        } finally {
            LibC.closeQuietly(fd);
        }
    }

    @Override
    public long pidNamespaceId() {
        try {
            // "pid:[4026531836]"
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    @Override
    public int currentPid() {
        return LibC.getpid();
    }

    @Override
    public long processStartTime(int pid) {
        if (pid <= 0) {
            return -1;
        }
        long start = statStartTime(pid);
        // A zombie has released everything it held: no start time either.
        return start >= 0 ? start : -1;
    }
}
