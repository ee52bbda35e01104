package io.shmkit;

/**
 * A segment does not hold what the caller expected: not a shmkit object at all (a wrong or
 * missing magic number: nothing was initialised there, or something else was), another kind of
 * object, another layout version, a header or record whose values are impossible (garbage or
 * corruption), or a segment too small or an offset misaligned for the object. The message names
 * the segment, the offset and what was wrong.
 *
 * <p>shmkit throws this instead of hanging or crashing on memory it cannot trust. When such a
 * value is found in the middle of an operation that declares no checked exception (for example
 * {@link SharedMutex#lock()}), it is thrown as the cause of an {@link IllegalStateException} with
 * the same message.
 */
public class SegmentFormatException extends ShmException {
    private static final long serialVersionUID = 1L;

    private final long offset;

    /**
     * A format error in a segment, described by the caller in full.
     *
     * @param segmentName the segment whose contents are wrong
     * @param message what was found, where, and what was expected
     */
    public SegmentFormatException(String segmentName, String message) {
        super(segmentName, message, 0);
        this.offset = -1;
    }

    /**
     * A format error at one place in a segment; the message is "segment "NAME", offset N: problem".
     *
     * @param segmentName the segment the object lives in (or a description of the memory)
     * @param offset where the object starts in that segment
     * @param problem what was wrong, in words
     */
    public SegmentFormatException(String segmentName, long offset, String problem) {
        super(segmentName, "segment \"" + segmentName + "\", offset " + offset + ": " + problem, 0);
        this.offset = offset;
    }

    /**
     * Where the object whose bytes were wrong starts in its segment.
     *
     * @return the offset in bytes from the start of the segment, or -1 when the message says it
     */
    public long offset() {
        return offset;
    }
}
