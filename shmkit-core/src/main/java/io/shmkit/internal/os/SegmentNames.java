package io.shmkit.internal.os;

import java.nio.charset.StandardCharsets;

/**
 * Validates segment names and strips the Win32 {@code Local\} and {@code Global\} prefixes.
 *
 * <p>A name maps to the OS object without decoration ({@code demo} is {@code /dev/shm/demo} on
 * Linux), so it must be a single, printable path component: not empty, no {@code /}, no
 * {@code \} beyond the prefix, no NUL or other control or invisible character, not {@code .} or
 * {@code ..}, no {@code ..} inside, not starting with {@code .} (reserved for shmkit's temporary
 * objects), and at most {@link OsBackend#maxNameBytes()} bytes of UTF-8.
 */
public final class SegmentNames {
    private SegmentNames() {
    }

    /** Win32-style prefixes accepted for code ported from Windows. */
    public static final String LOCAL_PREFIX = "Local\\";
    public static final String GLOBAL_PREFIX = "Global\\";

    /**
     * The OS-level name for a user-given name.
     *
     * @throws IllegalArgumentException naming the problem, for a name that cannot be a segment name
     */
    public static String toOsName(String name, int maxBytes) {
        if (name == null) {
            throw new IllegalArgumentException("segment name is null");
        }
        String n = name;
        if (n.regionMatches(true, 0, LOCAL_PREFIX, 0, LOCAL_PREFIX.length())) {
            n = n.substring(LOCAL_PREFIX.length());
        } else if (n.regionMatches(true, 0, GLOBAL_PREFIX, 0, GLOBAL_PREFIX.length())) {
            n = n.substring(GLOBAL_PREFIX.length());
        }
        if (n.isEmpty()) {
            throw invalid(name, "it is empty");
        }
        if (n.indexOf('/') >= 0) {
            throw invalid(name, "it contains '/' (give the bare name: \"demo\", which C opens as shm_open(\"/demo\"))");
        }
        if (n.indexOf('\\') >= 0) {
            throw invalid(name, "it contains '\\' (only the prefixes Local\\ and Global\\ are accepted)");
        }
        if (n.equals(".") || n.equals("..") || n.contains("..")) {
            throw invalid(name, "it contains '..'");
        }
        if (n.startsWith(".")) {
            throw invalid(name, "it starts with '.', which is reserved for shmkit's temporary objects");
        }
        for (int i = 0; i < n.length(); ) {
            int cp = n.codePointAt(i);
            if (cp == 0) {
                throw invalid(name, "it contains a NUL character");
            }
            if (!printable(cp)) {
                throw invalid(name, String.format("it contains the non-printable character U+%04X at index %d", cp, i));
            }
            i += Character.charCount(cp);
        }
        int bytes = n.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxBytes) {
            throw invalid(name, "it is " + bytes + " bytes long in UTF-8; the limit on this platform is " + maxBytes);
        }
        return n;
    }

    private static boolean printable(int cp) {
        if (Character.isISOControl(cp) || Character.isWhitespace(cp) && cp != ' ') {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.FORMAT, Character.UNASSIGNED, Character.SURROGATE, Character.PRIVATE_USE,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    private static IllegalArgumentException invalid(String name, String why) {
        return new IllegalArgumentException("invalid segment name \"" + printableForm(name) + "\": " + why);
    }

    /** The name with invisible characters escaped, for messages. */
    public static String printableForm(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (printable(cp) && cp != '"') {
                b.appendCodePoint(cp);
            } else {
                b.append(String.format("\\u%04x", cp));
            }
        });
        return b.toString();
    }
}
