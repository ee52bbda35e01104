package io.shmkit.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

/**
 * How {@code shm recv} shows a message's payload: as the text it is, when it is text, and otherwise
 * in a form that cannot be mistaken for text nor upset the terminal.
 */
final class Payloads {

    private Payloads() {
    }

    /**
     * The payload as text, when it is safe to print as one line: valid UTF-8 with no control
     * characters but tabs. A newline would split the message into two lines, and escape sequences
     * would drive the terminal.
     *
     * @param payload the bytes
     * @return the text, or null when the payload is not such text
     */
    static String printableText(byte[] payload) {
        String text = utf8(payload);
        if (text == null) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\t' && (c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 || c == '\u2028' || c == '\u2029')) {
                return null;
            }
        }
        return text;
    }

    /**
     * One line for a message: its text, or, for anything else, {@code <binary N bytes: HEX>}.
     *
     * @param payload the bytes
     * @return the line, without its newline
     */
    static String line(byte[] payload) {
        String text = printableText(payload);
        if (text != null) {
            return text;
        }
        return "<binary " + payload.length + (payload.length == 1 ? " byte: " : " bytes: ")
                + HexFormat.of().formatHex(payload) + ">";
    }

    /**
     * A message as a JSON object: {@code type}, {@code length}, and {@code text} when the payload is
     * valid UTF-8 (JSON escapes any control characters), else {@code base64}.
     *
     * @param type the message's type id
     * @param payload the bytes
     * @return the object's fields in a stable order
     */
    static Map<String, Object> json(int type, byte[] payload) {
        Map<String, Object> o = Json.object();
        o.put("type", type);
        o.put("length", payload.length);
        String text = utf8(payload);
        if (text != null) {
            o.put("text", text);
        } else {
            o.put("base64", Base64.getEncoder().encodeToString(payload));
        }
        return o;
    }

    /** Strict decoding: {@code new String(bytes, UTF_8)} would hide invalid bytes behind U+FFFD. */
    private static String utf8(byte[] payload) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException notText) {
            return null;
        }
    }
}
