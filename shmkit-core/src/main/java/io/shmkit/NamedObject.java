package io.shmkit;

import io.shmkit.internal.layout.HeaderDescriptor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A segment of its own holding one primitive at offset 0, as named primitives
 * ({@code SharedMutex.openOrCreate("name")}) use it: the handle and its view, closed together.
 */
final class NamedObject implements AutoCloseable {

    /** How long an opener waits for a creator that made the segment but has not written the magic yet. */
    static final long PUBLISH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);

    final Segment segment;
    final View view;
    final boolean created;

    private NamedObject(Segment segment, View view, boolean created) {
        this.segment = segment;
        this.view = view;
        this.created = created;
    }

    /**
     * The memory of a primitive of {@code size} bytes at {@code offset} of a caller's view, for
     * {@code initialize}/{@code attach}: the view must be read-write, and the bytes must fit and be
     * aligned.
     *
     * @param article the primitive with its article, for messages: "a mutex", "an event"
     */
    static MemorySegment place(View view, long offset, long size, long alignment, String article)
            throws SegmentFormatException {
        Objects.requireNonNull(view, "view");
        if (view.access() != Access.READ_WRITE) {
            throw new IllegalArgumentException(article + " needs a READ_WRITE view of segment \""
                    + view.segment().name() + "\", not " + view.access());
        }
        String what = article.substring(article.indexOf(' ') + 1);
        HeaderDescriptor.checkPlacement(view.memory(), offset, size, alignment, what, view.segment().name(),
                view.offset());
        return view.memory().asSlice(offset, size);
    }

    /**
     * Named primitives are written by every process that uses them: refuses other access modes.
     *
     * @param article the primitive with its article, for messages: "a mutex", "an event"
     */
    static void requireReadWrite(SegmentOptions options, String article) {
        if (Objects.requireNonNull(options, "options").access() != Access.READ_WRITE) {
            throw new IllegalArgumentException(article + " needs access READ_WRITE, not " + options.access());
        }
    }

    /** How a kind of primitive is written into fresh memory. */
    @FunctionalInterface
    interface Initializer {
        void initialize(MemorySegment mem);
    }

    /**
     * Creates the segment exclusively and initialises the primitive in it (magic last).
     *
     * @param size the primitive's size
     */
    static NamedObject create(String name, long size, SegmentOptions options, Initializer init) throws IOException {
        Objects.requireNonNull(options, "options");
        if (options.access() != Access.READ_WRITE) {
            throw new IllegalArgumentException("creating a synchronization object needs access READ_WRITE, not "
                    + options.access());
        }
        Segment segment = SharedMemory.create(name, size, options);
        try {
            View view = segment.map(0, size, Access.READ_WRITE);
            init.initialize(view.memory());
            return new NamedObject(segment, view, true);
        } catch (IOException | RuntimeException e) {
            segment.close();
            throw e;
        }
    }

    /**
     * Opens the segment and waits (briefly, bounded) until its creator has published a primitive
     * with magic {@code magic} in it.
     *
     * @param minSize the least size the segment must have for the primitive (another kind of
     *                primitive, smaller, is named as such)
     */
    static NamedObject open(String name, SegmentOptions options, String kind, int magic, long minSize)
            throws IOException {
        Objects.requireNonNull(options, "options");
        Segment segment = SharedMemory.open(name, options);
        try {
            long size = segment.size();
            if (size < Math.min(minSize, HeaderDescriptor.SIZE)) {
                throw tooSmall(name, kind, size, minSize);
            }
            if (options.access() == Access.COPY_ON_WRITE) {
                throw new IllegalArgumentException(HeaderDescriptor.withArticle(kind) + " works only in shared memory: open it READ_WRITE"
                        + " (or READ_ONLY where the kind allows it), not COPY_ON_WRITE");
            }
            View view = segment.map(0, size, options.access());
            if (size < minSize) {
                if (HeaderDescriptor.magicAcquire(view.memory()) != 0) {
                    awaitPublished(view.memory(), name, kind, magic); // names another kind as such
                }
                throw tooSmall(name, kind, size, minSize);
            }
            awaitPublished(view.memory(), name, kind, magic);
            return new NamedObject(segment, view, false);
        } catch (IOException | RuntimeException e) {
            segment.close();
            throw e;
        }
    }

    private static SegmentFormatException tooSmall(String name, String kind, long size, long minSize) {
        return new SegmentFormatException(name, 0, "not " + HeaderDescriptor.withArticle(kind) + ": the segment has "
                + size + " bytes, less than the " + minSize + " " + HeaderDescriptor.withArticle(kind)
                + " needs (segment too small)");
    }

    /**
     * Opens the segment, or creates it when there is none.
     *
     * @param size the size to create it with
     * @param minSize the least size an existing one may have, as for {@link #open}
     */
    static NamedObject openOrCreate(String name, long size, long minSize, SegmentOptions options, String kind,
                                    int magic, Initializer init) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                return create(name, size, options, init);
            } catch (FileAlreadyExistsException exists) {
                try {
                    return open(name, options, kind, magic, minSize);
                } catch (NoSuchFileException goneMeanwhile) {
                    // Its last holder closed it between our create and open: create again.
                    if (attempt >= 100) {
                        throw goneMeanwhile;
                    }
                }
            }
        }
    }

    private static void awaitPublished(MemorySegment mem, String name, String kind, int magic)
            throws SegmentFormatException {
        long deadline = System.nanoTime() + PUBLISH_WAIT_NANOS;
        int found;
        // A creator makes the segment visible before it writes the primitive: magic 0 for a
        // moment is normal; magic 0 for seconds means the creator died before finishing.
        while ((found = HeaderDescriptor.magicAcquire(mem)) == 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new SegmentFormatException(name, 0, "no " + kind + " here: the segment is still "
                        + "uninitialised (magic 0) after " + TimeUnit.NANOSECONDS.toMillis(PUBLISH_WAIT_NANOS)
                        + " ms: either a plain data segment (its first bytes are zero), or " + HeaderDescriptor.withArticle(kind)
                        + " whose creator died while creating it (that one only, remove: shm rm " + name + ")");
            }
            LockSupport.parkNanos(500_000);
        }
        if (found != magic) {
            throw new SegmentFormatException(name, 0, "not " + HeaderDescriptor.withArticle(kind) + ": found magic "
                    + HeaderDescriptor.describeMagic(found) + " where " + HeaderDescriptor.withArticle(kind) + " has "
                    + HeaderDescriptor.describeMagic(magic));
        }
    }

    @Override
    public void close() {
        segment.close();
    }
}
