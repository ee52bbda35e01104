package io.shmkit.internal.os;

/**
 * An open named object or file as the backend holds it: its descriptor (holding a shared
 * {@code flock}, which is what makes this process a holder), and the identity it had when opened.
 * Owned by one {@link io.shmkit.Segment}; closed once, by {@link OsBackend#close}.
 */
public final class NativeHandle {
    final int fd;
    final String name;
    final String path;
    final long dev;
    final long ino;
    final long size;
    final int uid;
    final int permissions;
    final LifetimeTag lifetime;
    final boolean writable;
    final boolean fileBacked;
    final boolean created;
    boolean closed;

    NativeHandle(int fd, String name, String path, LibC.Stat stat, LifetimeTag lifetime, boolean writable,
                 boolean fileBacked, boolean created) {
        this.fd = fd;
        this.name = name;
        this.path = path;
        this.dev = stat.dev();
        this.ino = stat.ino();
        this.size = stat.size();
        this.uid = stat.uid();
        this.permissions = stat.permissions();
        this.lifetime = lifetime;
        this.writable = writable;
        this.fileBacked = fileBacked;
        this.created = created;
    }

    /** The name the object was opened by (a path for files). */
    public String name() {
        return name;
    }

    /** Where the object lives, e.g. "/dev/shm/demo". */
    public String path() {
        return path;
    }

    /** The size in bytes when opened. */
    public long size() {
        return size;
    }

    public int ownerUid() {
        return uid;
    }

    public int permissions() {
        return permissions;
    }

    public LifetimeTag lifetime() {
        return lifetime;
    }

    public boolean writable() {
        return writable;
    }

    public boolean fileBacked() {
        return fileBacked;
    }

    /** True when this handle created the object, false when it opened an existing one. */
    public boolean created() {
        return created;
    }

    /** The inode number: identifies the object while it exists. */
    public long inode() {
        return ino;
    }
}
