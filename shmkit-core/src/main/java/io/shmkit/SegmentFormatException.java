package io.shmkit;

/**
 * The bytes found in a segment are not what a shmkit primitive expects there: a wrong or missing
 * magic number (nothing was initialised there, or something else was), an unknown layout
 * version, a field holding an impossible value (garbage or corruption), or a segment too small or
 * an offset misaligned for the primitive.
 *
 * <p>The message names the segment, the offset of the primitive in it, and what was wrong.
 * shmkit throws this instead of hanging or crashing on memory it cannot trust. When such a value
 * is found in the middle of an operation that declares no checked exception (for example
 * {@link SharedMutex#lock()}), it is thrown as the cause of an {@link IllegalStateException} with
 * the same message.
 */
public class SegmentFormatException extends ShmException {
    private static final long serialVersionUID = 1L;

    private final long offset;

    /**
     * A format error at one place in a segment.
     *
     * @param segmentName the segment the primitive lives in (or a description of the memory)
     * @param offset where the primitive starts in that segment
     * @param problem what was wrong, in words
     */
    public SegmentFormatException(String segmentName, long offset, String problem) {
        super(segmentName, "segment \"" + segmentName + "\", offset " + offset + ": " + problem, 0);
        this.offset = offset;
    }

    /**
     * Where the primitive whose bytes were wrong starts in its segment.
     *
     * @return the offset in bytes from the start of the segment
     */
    public long offset() {
        return offset;
    }
}
