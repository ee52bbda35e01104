package io.shmkit.cli;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON that {@code --json} prints: just enough of a writer for maps, lists, strings,
 * numbers, booleans and null, so that the CLI needs no JSON library.
 */
final class Json {

    private Json() {
    }

    /**
     * An empty object whose keys keep the order they are put in, so output reads like the human form.
     *
     * @return a new, modifiable map
     */
    static Map<String, Object> object() {
        return new LinkedHashMap<>();
    }

    /**
     * Writes a value as JSON on one line.
     *
     * @param value a {@link Map} (keys are written with {@code toString()}), an {@link Iterable}, a
     *              {@link CharSequence}, an integral {@link Number}, a {@link Double} (null when it is not
     *              finite, which JSON cannot write), a {@link Boolean}, an {@link Enum} (its name), or null
     * @return the JSON text
     * @throws IllegalArgumentException for any other type
     */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        append(out, value);
        return out.toString();
    }

    private static void append(StringBuilder out, Object value) {
        switch (value) {
            case null -> out.append("null");
            case Map<?, ?> map -> {
                out.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    out.append(sep);
                    appendString(out, String.valueOf(e.getKey()));
                    out.append(':');
                    append(out, e.getValue());
                    sep = ",";
                }
                out.append('}');
            }
            case Iterable<?> list -> {
                out.append('[');
                String sep = "";
                for (Object item : list) {
                    out.append(sep);
                    append(out, item);
                    sep = ",";
                }
                out.append(']');
            }
            case CharSequence s -> appendString(out, s);
            case Long n -> out.append(n.longValue());
            case Integer n -> out.append(n.intValue());
            case Short n -> out.append(n.shortValue());
            case Byte n -> out.append(n.byteValue());
            // Plain digits: 12699700.951 reads better than Java's 1.2699700951E7 (both are JSON).
            case Double d -> out.append(Double.isFinite(d) ? BigDecimal.valueOf(d).toPlainString() : "null");
            case Boolean b -> out.append(b.booleanValue());
            case Enum<?> e -> appendString(out, e.name());
            default -> throw new IllegalArgumentException("no JSON form for " + value.getClass().getName());
        }
    }

    private static void appendString(StringBuilder out, CharSequence s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    // Control characters must be escaped; U+2028/2029 too, so the output is also valid JavaScript.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
