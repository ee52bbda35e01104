package io.shmkit;

import io.shmkit.internal.os.LifetimeTag;
import io.shmkit.internal.os.NativeHandle;
import io.shmkit.internal.os.OsBackend;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.List;

/**
 * An open handle to a named shared memory segment or a mapped file: the Win32 file-mapping
 * handle. Obtain one from {@link SharedMemory}; map {@link View}s of it; close it when done.
 *
 * <p>While the handle is open this process is a <em>holder</em> of the segment. A segment with
 * lifetime {@link Lifetime#UNTIL_LAST_CLOSE} disappears when its last holder closes (or dies).
 * Closing the handle also closes every view mapped from it: accessing such a view afterwards
 * throws {@link IllegalStateException}. Handles are thread-safe.
 */
public final class Segment implements AutoCloseable {

    private final OsBackend os;
    private final NativeHandle handle;
    private final Access access;
    private final List<View> views = new ArrayList<>();
    private boolean closed;

    Segment(OsBackend os, NativeHandle handle, Access access) {
        this.os = os;
        this.handle = handle;
        this.access = access;
    }

    /** @return the segment's name, or the file's absolute path for a file mapping */
    public String name() {
        return handle.name();
    }

    /** @return where the OS keeps the segment, e.g. {@code /dev/shm/demo}, or the file's path */
    public String path() {
        return handle.path();
    }

    /**
     * The size in bytes. For a file mapping it is the file's current size.
     *
     * @return the size in bytes
     * @throws IOException when the size of a file cannot be read
     * @throws IllegalStateException when this handle of a file was closed
     */
    public long size() throws IOException {
        if (!handle.fileBacked()) {
            return handle.size();
        }
        // Under the lock close() takes before it closes the descriptor: a closed descriptor's
        // number may already belong to another file, whose size fstat would report.
        synchronized (this) {
            ensureOpen();
            return os.currentSize(handle);
        }
    }

    /** @return how this handle was opened; views default to it */
    public Access access() {
        return access;
    }

    /** @return the segment's lifetime; segments made by other programs, and files, are persistent */
    public Lifetime lifetime() {
        return handle.lifetime() == LifetimeTag.LAST_CLOSE ? Lifetime.UNTIL_LAST_CLOSE : Lifetime.PERSISTENT;
    }

    /**
     * Whether this call created the segment: the answer {@link SharedMemory#openOrCreate} gives
     * (Win32's {@code ERROR_ALREADY_EXISTS} when false).
     *
     * @return true when this handle created it, false when it opened an existing one
     */
    public boolean wasCreated() {
        return handle.created();
    }

    /** @return true for a mapping of a regular file, false for a named shared memory segment */
    public boolean isFileBacked() {
        return handle.fileBacked();
    }

    /** @return the user id that owns the segment */
    public int ownerUid() {
        return handle.ownerUid();
    }

    /** @return false once {@link #close()} was called */
    public synchronized boolean isOpen() {
        return !closed;
    }

    /**
     * Maps the whole segment with this handle's access.
     *
     * @return a view of all bytes
     * @throws IOException when the OS refuses the mapping
     */
    public View map() throws IOException {
        return map(0, size(), access);
    }

    /**
     * Maps the whole segment with the given access.
     *
     * @param access the view's access; a read-write view needs a read-write handle
     * @return a view of all bytes
     * @throws IOException when the OS refuses the mapping, or the access is not allowed
     */
    public View map(Access access) throws IOException {
        return map(0, size(), access);
    }

    /**
     * Maps {@code length} bytes at {@code offset} with this handle's access.
     *
     * @param offset where the view starts; need not be page-aligned
     * @param length how many bytes, at least 1
     * @return the view
     * @throws IOException when the OS refuses the mapping
     */
    public View map(long offset, long length) throws IOException {
        return map(offset, length, access);
    }

    /**
     * Maps {@code length} bytes at {@code offset} (Win32 {@code MapViewOfFile}). The offset need not
     * be aligned: the mapping starts at the page below it and the view is sliced to begin exactly at
     * {@code offset}.
     *
     * @param offset where the view starts, from 0
     * @param length how many bytes, at least 1; {@code offset + length} must not pass the segment's end
     * @param access read-only, read-write (needs a read-write handle) or copy-on-write
     * @return the view
     * @throws IllegalArgumentException for a negative offset, a length below 1, or a range past the end
     * @throws AccessDeniedException for a read-write view of a handle opened without write access
     * @throws IOException when the OS refuses the mapping
     */
    public View map(long offset, long length, Access access) throws IOException {
        if (access == null) {
            throw new IllegalArgumentException("access is null");
        }
        long size = size();
        if (offset < 0) {
            throw new IllegalArgumentException("view offset " + offset + " is negative (segment \"" + name() + "\")");
        }
        if (length <= 0) {
            throw new IllegalArgumentException("view length " + length + " must be at least 1 (segment \"" + name() + "\")");
        }
        if (offset > size || length > size - offset) {
            throw new IllegalArgumentException("view of " + length + " bytes at offset " + offset
                    + " runs past the end of segment \"" + name() + "\" (" + size + " bytes)");
        }
        if (access == Access.READ_WRITE && this.access != Access.READ_WRITE) {
            throw new AccessDeniedException(name(), null,
                    "cannot map a read-write view: the segment was opened " + this.access);
        }
        long page = os.pageSize();
        long aligned = offset - offset % page;
        long delta = offset - aligned;
        int mode = switch (access) {
            case READ_ONLY -> 0;
            case READ_WRITE -> 1;
            case COPY_ON_WRITE -> 2;
        };
        synchronized (this) {
            ensureOpen();
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapping = os.map(handle, aligned, length + delta, mode, arena);
                View view = new View(this, arena, mapping, delta, offset, length, access);
                views.add(view);
                return view;
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    synchronized void forget(View view) {
        views.remove(view);
    }

    OsBackend os() {
        return os;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("segment \"" + name() + "\" is closed");
        }
    }

    /**
     * Unmaps every view of this handle and releases it (Win32 {@code CloseHandle}). When this was
     * the last holder of a segment with lifetime {@link Lifetime#UNTIL_LAST_CLOSE}, the segment is
     * removed. Closing twice does nothing.
     */
    @Override
    public void close() {
        List<View> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(views);
            views.clear();
        }
        for (View v : toClose) {
            v.unmap();
        }
        os.close(handle);
    }

    @Override
    public String toString() {
        return "Segment[" + name() + ", " + handle.size() + " bytes, " + access + ", " + lifetime() + "]";
    }
}
