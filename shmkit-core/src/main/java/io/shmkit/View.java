package io.shmkit;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A mapped range of a segment (Win32 {@code MapViewOfFile}). {@link #memory()} is an ordinary
 * {@link MemorySegment}, so every FFM accessor, {@link java.lang.invoke.VarHandle} and atomic works
 * on it; offsets given to it are relative to the start of the view.
 *
 * <p>Writes through a {@link Access#READ_ONLY} view throw {@link IllegalArgumentException}.
 * Writes through a {@link Access#COPY_ON_WRITE} view stay in this process. When a mapped
 * <em>file</em> is truncated under the view, accessing the missing pages raises
 * {@link InternalError} from the JVM (in compiled code possibly a little after the access);
 * the convenience methods here check the file's size first and throw an
 * {@link IllegalStateException} that says so. Close the view (or its segment) to unmap it.
 */
public final class View implements AutoCloseable {

    private final Segment segment;
    private final Arena arena;
    private final MemorySegment mapping;
    private final MemorySegment memory;
    private final long offset;
    private final Access access;

    View(Segment segment, Arena arena, MemorySegment mapping, long delta, long offset, long length, Access access) {
        this.segment = segment;
        this.arena = arena;
        this.mapping = mapping;
        MemorySegment slice = mapping.asSlice(delta, length);
        this.memory = access == Access.READ_ONLY ? slice.asReadOnly() : slice;
        this.offset = offset;
        this.access = access;
    }

    /** @return the mapped bytes, from this view's start */
    public MemorySegment memory() {
        return memory;
    }

    /** @return where in the segment this view starts */
    public long offset() {
        return offset;
    }

    /** @return how many bytes the view covers */
    public long length() {
        return memory.byteSize();
    }

    /** @return the view's access */
    public Access access() {
        return access;
    }

    /** @return the segment this view maps */
    public Segment segment() {
        return segment;
    }

    /**
     * Reads a NUL-terminated UTF-8 string, as a C program sharing the segment writes it. Reads up
     * to the first NUL byte, or to the end of the view when there is none.
     *
     * @param at offset in the view
     * @return the string
     * @throws IndexOutOfBoundsException when {@code at} is outside the view
     */
    public String getString(long at) {
        checkIndex(at, 1);
        checkNotTruncated(at, 1);
        try {
            long end = at;
            long limit = memory.byteSize();
            while (end < limit && memory.get(ValueLayout.JAVA_BYTE, end) != 0) {
                end++;
            }
            byte[] bytes = memory.asSlice(at, end - at).toArray(ValueLayout.JAVA_BYTE);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (InternalError e) {
            throw truncated(e);
        }
    }

    /**
     * Writes a string as UTF-8 followed by a NUL byte.
     *
     * @param at offset in the view
     * @param value the string
     * @return how many bytes were written, the NUL included
     * @throws IndexOutOfBoundsException when the bytes and the NUL do not fit in the view at {@code at}
     * @throws IllegalArgumentException for a read-only view
     */
    public long putString(long at, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        checkIndex(at, bytes.length + 1L);
        checkWritable();
        checkNotTruncated(at, bytes.length + 1L);
        try {
            MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, at, bytes.length);
            memory.set(ValueLayout.JAVA_BYTE, at + bytes.length, (byte) 0);
        } catch (InternalError e) {
            throw truncated(e);
        }
        return bytes.length + 1L;
    }

    /**
     * Copies bytes out of the view.
     *
     * @param at offset in the view
     * @param length how many bytes
     * @return a new array
     * @throws IndexOutOfBoundsException when the range is outside the view
     */
    public byte[] getBytes(long at, int length) {
        checkIndex(at, length);
        checkNotTruncated(at, length);
        try {
            return memory.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE);
        } catch (InternalError e) {
            throw truncated(e);
        }
    }

    /**
     * Copies bytes into the view.
     *
     * @param at offset in the view
     * @param bytes what to write
     * @throws IndexOutOfBoundsException when they do not fit at {@code at}
     * @throws IllegalArgumentException for a read-only view
     */
    public void putBytes(long at, byte[] bytes) {
        checkIndex(at, bytes.length);
        checkWritable();
        checkNotTruncated(at, bytes.length);
        try {
            MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, at, bytes.length);
        } catch (InternalError e) {
            throw truncated(e);
        }
    }

    /**
     * Writes the view's changed pages back to the file and waits until they are stored (Win32
     * {@code FlushViewOfFile}, POSIX {@code msync(MS_SYNC)}). For a named segment (memory only)
     * it returns at once.
     *
     * @throws IOException when the OS reports a failure
     * @throws IllegalStateException when the view or its segment was closed
     */
    public void flush() throws IOException {
        // Under the lock unmap() takes: the mapping cannot be unmapped (and its addresses reused
        // by another mapping) while msync runs on them.
        synchronized (this) {
            if (!mapping.scope().isAlive()) {
                throw new IllegalStateException("the view of segment \"" + segment.name() + "\" is closed");
            }
            segment.os().flush(mapping, segment.name());
        }
    }

    private void checkIndex(long at, long length) {
        if (at < 0 || length < 0 || at > memory.byteSize() || length > memory.byteSize() - at) {
            throw new IndexOutOfBoundsException(length + " bytes at offset " + at + " do not fit in the view of "
                    + memory.byteSize() + " bytes of segment \"" + segment.name() + "\"");
        }
    }

    private void checkWritable() {
        if (access == Access.READ_ONLY) {
            throw new IllegalArgumentException("the view of segment \"" + segment.name() + "\" is read-only");
        }
    }

    /**
     * For a file mapping: throws the truncation exception when the bytes lie in pages past the
     * file's end. The JVM's InternalError for such an access is asynchronous in compiled code: it
     * may surface after these methods returned, outside their catch, so it cannot be relied on.
     */
    private void checkNotTruncated(long at, long length) {
        if (!segment.isFileBacked() || length == 0) {
            return;
        }
        long fileSize;
        try {
            fileSize = segment.size();
        } catch (IOException unknown) {
            return; // the access itself will tell
        }
        long page = segment.os().pageSize();
        long mappedEnd = fileSize > Long.MAX_VALUE - page ? Long.MAX_VALUE : (fileSize + page - 1) / page * page;
        if (offset + at + length > mappedEnd) {
            throw truncated(null);
        }
    }

    private IllegalStateException truncated(InternalError e) {
        return new IllegalStateException("segment \"" + segment.name() + "\": the mapped pages are gone "
                + "(the file was truncated under this view, or /dev/shm is full)", e);
    }

    /** Unmaps the view (Win32 {@code UnmapViewOfFile}). Closing twice does nothing. */
    @Override
    public void close() {
        segment.forget(this);
        unmap();
    }

    synchronized void unmap() {
        try {
            arena.close();
        } catch (IllegalStateException alreadyClosed) {
            // Closed by the segment, or twice: nothing left to release.
        }
    }

    @Override
    public String toString() {
        return "View[" + segment.name() + ", offset " + offset + ", " + length() + " bytes, " + access + "]";
    }
}
