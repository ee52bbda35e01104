package io.shmkit;

/**
 * A segment does not hold what the caller expected: not a shmkit object at all, another kind of
 * object, another layout version, or a header or record whose values are impossible (corrupted or
 * not yet initialised). The message names the segment, the offset and what was wrong.
 */
public class SegmentFormatException extends ShmException {
    private static final long serialVersionUID = 1L;

    /**
     * A format error in a segment.
     *
     * @param segmentName the segment whose contents are wrong
     * @param message what was found, where, and what was expected
     */
    public SegmentFormatException(String segmentName, String message) {
        super(segmentName, message, 0);
    }
}
