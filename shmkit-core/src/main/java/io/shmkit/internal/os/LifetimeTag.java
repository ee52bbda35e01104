package io.shmkit.internal.os;

import java.nio.charset.StandardCharsets;

/**
 * How long a named object lives, as recorded on the object itself (an extended attribute on
 * Linux, outside the user's bytes).
 */
public enum LifetimeTag {
    /** Removed when its last holder closes it; reclaimed when every holder died. */
    LAST_CLOSE("last-close"),
    /** Lives until removed explicitly. */
    PERSISTENT("persistent"),
    /** Made by another program (C, Python, Boost): treated as persistent. */
    EXTERNAL("external");

    private final String tag;

    LifetimeTag(String tag) {
        this.tag = tag;
    }

    /** The attribute value written to the object. */
    public byte[] bytes() {
        return tag.getBytes(StandardCharsets.US_ASCII);
    }

    /** The tag recorded on an object; {@link #EXTERNAL} when there is none or it is unknown. */
    public static LifetimeTag parse(byte[] value) {
        if (value != null) {
            String s = new String(value, StandardCharsets.US_ASCII);
            for (LifetimeTag t : values()) {
                if (t != EXTERNAL && t.tag.equals(s)) {
                    return t;
                }
            }
        }
        return EXTERNAL;
    }
}
