package io.shmkit.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PayloadsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void textIsPrintedAsItIs() {
        assertEquals("héllo\twörld €", Payloads.line(utf8("héllo\twörld €")));
        assertEquals("", Payloads.line(new byte[0]));
    }

    @Test
    void whatIsNotOneLineOfTextIsShownAsHex() {
        assertEquals("<binary 3 bytes: 00ff0a>", Payloads.line(new byte[] {0, (byte) 0xff, '\n'}));
        assertEquals("<binary 1 byte: 80>", Payloads.line(new byte[] {(byte) 0x80}), "invalid UTF-8");
        assertNull(Payloads.printableText(utf8("two\nlines")));
        assertNull(Payloads.printableText(utf8("\u001b[2Jclears the screen")));
        assertNull(Payloads.printableText(utf8("C1 control \u0085")));
        assertNull(Payloads.printableText(utf8("line separator \u2028")));
    }

    @Test
    void jsonHasTextForUtf8AndBase64ForTheRest() {
        Map<String, Object> text = MiniJson.object(Json.write(Payloads.json(3, utf8("a\nb"))));
        assertEquals(3L, text.get("type"));
        assertEquals(3L, text.get("length"));
        assertEquals("a\nb", text.get("text"));
        Map<String, Object> binary = MiniJson.object(Json.write(Payloads.json(0, new byte[] {0, (byte) 0xff})));
        assertEquals("AP8=", binary.get("base64"));
        assertNull(binary.get("text"));
    }

    @Test
    void agesReadWell() {
        assertEquals("0.2s ago", StatCommand.age(200));
        assertEquals("0.0s ago", StatCommand.age(-5), "a heartbeat a little in the future is now");
        assertEquals("42s ago", StatCommand.age(42_000));
        assertEquals("3m ago", StatCommand.age(180_000));
        assertEquals("5h ago", StatCommand.age(5 * 3_600_000L));
        assertEquals("3d ago", StatCommand.age(3 * 86_400_000L));
    }
}
