package io.shmkit;

import io.shmkit.internal.layout.Inspector;
import io.shmkit.internal.os.LifetimeTag;
import io.shmkit.internal.os.NativeHandle;
import io.shmkit.internal.os.ObjectInfo;
import io.shmkit.internal.os.OsBackend;
import io.shmkit.internal.os.SegmentNames;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Named shared memory, the Win32 file-mapping model in Java: create a segment by name in one
 * process, open it by the same name in another, and map views of it.
 *
 * <pre>{@code
 * // process 1 (CreateFileMapping + MapViewOfFile)
 * try (Segment seg = SharedMemory.create("demo", 4096); View v = seg.map()) {
 *     v.putString(0, "hello from Java");
 *     ... // keep the handle open while others use it
 * }
 * // process 2 (OpenFileMapping + MapViewOfFile)
 * try (Segment seg = SharedMemory.open("demo"); View v = seg.map()) {
 *     System.out.println(v.getString(0));
 * }
 * }</pre>
 *
 * <p>Names map to the OS object without decoration: on Linux {@code demo} is
 * {@code /dev/shm/demo}, which C's {@code shm_open("/demo")} and Python's
 * {@code SharedMemory(name="demo")} open too, and the user's bytes start at offset 0. The Win32
 * prefixes {@code Local\} and {@code Global\} are accepted and ignored on Linux, which has one
 * namespace per machine (per IPC namespace in containers).
 *
 * <p>Errors: {@link FileAlreadyExistsException} when creating a name that exists,
 * {@link NoSuchFileException} when opening one that does not, {@link AccessDeniedException} for
 * permissions and segments of other users, {@link IllegalArgumentException} for bad names, sizes
 * and offsets, {@link ShmException} for anything else; all name the segment.
 */
public final class SharedMemory {

    private SharedMemory() {
    }

    private static OsBackend os() {
        return OsBackend.current();
    }

    /**
     * The OS-level name for a segment name: validated, with any {@code Local\} or {@code Global\}
     * prefix removed.
     *
     * @param name a segment name
     * @return the name as the OS knows it
     * @throws IllegalArgumentException naming what is wrong with the name
     */
    public static String osName(String name) {
        return SegmentNames.toOsName(name, os().maxNameBytes());
    }

    /**
     * Where the OS keeps the segment of this name, e.g. {@code /dev/shm/demo} on Linux.
     *
     * @param name a segment name
     * @return the path of the OS object
     */
    public static String osPath(String name) {
        return os().objectPath(osName(name));
    }

    /**
     * Creates a segment exclusively, with the default options (0600, until last close).
     *
     * @param name the segment name
     * @param size its size in bytes, at least 1 (sizes over 4 GiB work; memory is allocated on first touch)
     * @return a read-write handle; the segment is zero-filled
     * @throws FileAlreadyExistsException when a segment of that name exists (Win32 {@code ERROR_ALREADY_EXISTS})
     * @throws IOException for other OS failures
     */
    public static Segment create(String name, long size) throws IOException {
        return create(name, size, SegmentOptions.defaults());
    }

    /**
     * Creates a segment exclusively.
     *
     * @param name the segment name
     * @param size its size in bytes, at least 1
     * @param options permissions and lifetime (access must allow writing)
     * @return a handle with the options' access
     * @throws FileAlreadyExistsException when a segment of that name exists
     * @throws IOException for other OS failures
     */
    public static Segment create(String name, long size, SegmentOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        String osName = osName(name);
        checkSize(name, size);
        LifetimeTag tag = options.lifetime() == Lifetime.PERSISTENT ? LifetimeTag.PERSISTENT : LifetimeTag.LAST_CLOSE;
        NativeHandle h = os().createShm(osName, size, options.permissions(), tag);
        return new Segment(os(), h, options.access());
    }

    /**
     * Opens an existing segment for reading and writing (Win32 {@code OpenFileMapping(FILE_MAP_ALL_ACCESS)}).
     *
     * @param name the segment name
     * @return a read-write handle
     * @throws NoSuchFileException when there is no segment of that name
     * @throws AccessDeniedException when permissions forbid it or another user owns it
     * @throws IOException for other OS failures
     */
    public static Segment open(String name) throws IOException {
        return open(name, SegmentOptions.defaults());
    }

    /**
     * Opens an existing segment with the given access.
     *
     * @param name the segment name
     * @param access read-only, read-write, or copy-on-write (the views' default)
     * @return the handle
     * @throws NoSuchFileException when there is no segment of that name
     * @throws IOException for other failures
     */
    public static Segment open(String name, Access access) throws IOException {
        return open(name, SegmentOptions.defaults().access(access));
    }

    /**
     * Opens an existing segment.
     *
     * @param name the segment name
     * @param options access, and whether another user's segment may be opened
     * @return the handle
     * @throws NoSuchFileException when there is no segment of that name
     * @throws IOException for other failures
     */
    public static Segment open(String name, SegmentOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        String osName = osName(name);
        NativeHandle h = os().openShm(osName, options.access() == Access.READ_WRITE, options.foreignOwnerAllowed());
        return new Segment(os(), h, options.access());
    }

    /**
     * Opens the segment, or creates it when there is none; {@link Segment#wasCreated()} tells
     * which happened.
     *
     * @param name the segment name
     * @param size the size to create it with; an existing segment must be at least this big
     * @return a read-write handle
     * @throws ShmException when an existing segment is smaller than {@code size}
     * @throws IOException for other failures
     */
    public static Segment openOrCreate(String name, long size) throws IOException {
        return openOrCreate(name, size, SegmentOptions.defaults());
    }

    /**
     * Opens the segment, or creates it with {@code options} when there is none.
     *
     * @param name the segment name
     * @param size the size to create it with; an existing segment must be at least this big
     * @param options options for creating, and access for either case
     * @return the handle; {@link Segment#wasCreated()} tells whether it was created
     * @throws ShmException when an existing segment is smaller than {@code size}
     * @throws IOException for other failures
     */
    public static Segment openOrCreate(String name, long size, SegmentOptions options) throws IOException {
        checkSize(name, size);
        for (int attempt = 0; ; attempt++) {
            try {
                return create(name, size, options);
            } catch (FileAlreadyExistsException exists) {
                try {
                    Segment s = open(name, options);
                    if (s.size() < size) {
                        long actual = s.size();
                        s.close();
                        throw new ShmException(name, "shared memory segment \"" + name + "\" exists with " + actual
                                + " bytes, smaller than the " + size + " requested", 0);
                    }
                    return s;
                } catch (NoSuchFileException goneMeanwhile) {
                    if (attempt >= 100) {
                        throw goneMeanwhile;
                    }
                }
            }
        }
    }

    /**
     * Maps an existing regular file as it is (its current size).
     *
     * @param file the file; a symbolic link is refused
     * @return a read-write handle
     * @throws NoSuchFileException when the file does not exist
     * @throws IOException for other failures, or an empty file
     */
    public static Segment mapFile(Path file) throws IOException {
        return mapFile(file, 0, SegmentOptions.defaults());
    }

    /**
     * Maps a regular file, creating it (with permissions 0600) when missing and extending it to
     * {@code size} when it is shorter (Win32 {@code CreateFileMapping} on a file handle).
     *
     * @param file the file; a symbolic link is refused
     * @param size the least size the file should have, at least 1
     * @return a read-write handle
     * @throws IOException for OS failures
     */
    public static Segment mapFile(Path file, long size) throws IOException {
        checkSize(file.toString(), size);
        return mapFile(file, size, SegmentOptions.defaults());
    }

    /**
     * Maps a regular file. With {@code size > 0} and write access the file is created (with the
     * options' permissions) when missing and extended when shorter; with {@code size == 0} it is
     * mapped as it is. File mappings are always persistent: the file stays.
     *
     * @param file the file; a symbolic link is refused
     * @param size the least size, or 0 to map the file as it is
     * @param options access, permissions for a new file, foreign owner
     * @return the handle
     * @throws IOException for OS failures
     */
    public static Segment mapFile(Path file, long size, SegmentOptions options) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        if (size < 0) {
            throw new IllegalArgumentException("size " + size + " of file " + file + " is negative");
        }
        NativeHandle h = os().openFile(file, size, options.permissions(), options.access() == Access.READ_WRITE,
                options.foreignOwnerAllowed());
        return new Segment(os(), h, options.access());
    }

    /**
     * Every named segment on this machine that this user can see, sorted by name.
     *
     * @return one entry per segment
     * @throws IOException when the namespace cannot be read
     */
    public static List<SegmentInfo> list() throws IOException {
        List<SegmentInfo> result = new ArrayList<>();
        for (ObjectInfo o : os().list()) {
            result.add(toInfo(o));
        }
        return result;
    }

    /**
     * What is known of one segment: what the OS records, and, for a named synchronization object
     * ({@link SharedMutex}, {@link SharedEvent}, {@link SharedSemaphore}, {@link SeqLock}), its
     * kind and state ({@link SegmentInfo#kind()}, {@link SegmentInfo#state()}), read from a copy of
     * its first bytes without holding or mapping it.
     *
     * @param name the segment name
     * @return its description, or empty when there is none
     * @throws IOException when it cannot be inspected
     */
    public static Optional<SegmentInfo> info(String name) throws IOException {
        ObjectInfo o = os().info(osName(name));
        return o == null ? Optional.empty() : Optional.of(toInfo(o));
    }

    /**
     * Whether a segment of this name exists (a stale one included).
     *
     * @param name the segment name
     * @return true when it exists
     * @throws IOException when it cannot be checked
     */
    public static boolean exists(String name) throws IOException {
        return os().info(osName(name)) != null;
    }

    /**
     * Removes the name now (POSIX {@code shm_unlink}); processes that have it mapped keep their
     * mappings, and the memory is freed when the last one unmaps.
     *
     * @param name the segment name
     * @return true when it was removed, false when there was none
     * @throws AccessDeniedException when this user may not remove it
     * @throws IOException for other failures
     */
    public static boolean remove(String name) throws IOException {
        return os().remove(osName(name));
    }

    /**
     * Removes this user's stale segments: those with lifetime {@link Lifetime#UNTIL_LAST_CLOSE}
     * whose holders all died, and temporary objects of creators that died mid-create.
     *
     * @return the names removed
     * @throws IOException when the namespace cannot be read
     */
    public static List<String> reclaimStale() throws IOException {
        return os().reclaimStale();
    }

    private static SegmentInfo toInfo(ObjectInfo o) {
        Lifetime lifetime = o.lifetime() == LifetimeTag.LAST_CLOSE ? Lifetime.UNTIL_LAST_CLOSE : Lifetime.PERSISTENT;
        // A racy copy of the first bytes, read without mapping or holding the segment.
        Inspector.Description d = Inspector.describe(os().peek(o.name(), Inspector.HEAD_BYTES), o.size(), os());
        SegmentKind kind = d.kind() == null ? SegmentKind.DATA : SegmentKind.valueOf(d.kind().toUpperCase(Locale.ROOT));
        return new SegmentInfo(o.name(), o.path(), o.size(), o.ownerUid(), o.ownerName(), o.permissions(), lifetime,
                o.lifetime() != LifetimeTag.EXTERNAL, o.holderPids(), kind, d.state(), d.summary());
    }

    private static void checkSize(String name, long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("size " + size + " of segment \"" + name + "\" must be at least 1 byte");
        }
    }
}
