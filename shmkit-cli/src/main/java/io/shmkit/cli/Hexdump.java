package io.shmkit.cli;

/**
 * Hex dumps in the format of {@code xxd}: an offset, sixteen bytes in groups of two, and the
 * printable ASCII characters ({@code .} for the others).
 *
 * <pre>
 * 00000000: 6865 6c6c 6f00                           hello.
 * </pre>
 */
final class Hexdump {

    /** Bytes per line, as xxd prints them. */
    static final int LINE = 16;

    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hexdump() {
    }

    /**
     * Appends the lines for {@code bytes}, whose first byte is at {@code offset} of the segment. To
     * dump a long range in pieces, give pieces whose length is a multiple of {@link #LINE}.
     *
     * @param out where the lines go, each ending with a newline
     * @param bytes the bytes
     * @param length how many of them
     * @param offset the offset of {@code bytes[0]}, printed at the start of the first line
     */
    static void append(StringBuilder out, byte[] bytes, int length, long offset) {
        for (int line = 0; line < length; line += LINE) {
            String at = Long.toHexString(offset + line);
            out.append("0".repeat(Math.max(0, 8 - at.length()))).append(at).append(": ");
            int n = Math.min(LINE, length - line);
            for (int i = 0; i < LINE; i++) {
                if (i < n) {
                    int b = bytes[line + i] & 0xff;
                    out.append(DIGITS[b >> 4]).append(DIGITS[b & 0xf]);
                } else {
                    out.append("  ");
                }
                if (i % 2 == 1) {
                    out.append(' ');
                }
            }
            out.append(' ');
            for (int i = 0; i < n; i++) {
                int b = bytes[line + i] & 0xff;
                out.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
            }
            out.append('\n');
        }
    }
}
