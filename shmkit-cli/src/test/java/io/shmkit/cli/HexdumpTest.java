package io.shmkit.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HexdumpTest {

    @Test
    void looksLikeXxd() {
        // What `printf 'hello\0' | xxd` prints.
        byte[] hello = "hello\0".getBytes(StandardCharsets.US_ASCII);
        StringBuilder out = new StringBuilder();
        Hexdump.append(out, hello, hello.length, 0);
        assertEquals("00000000: 6865 6c6c 6f00                           hello.\n", out.toString());
    }

    @Test
    void fullLinesAndOffsets() {
        byte[] bytes = new byte[20];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (0x41 + i);
        }
        bytes[19] = (byte) 0xff;
        StringBuilder out = new StringBuilder();
        Hexdump.append(out, bytes, bytes.length, 0x1000);
        assertEquals("00001000: 4142 4344 4546 4748 494a 4b4c 4d4e 4f50  ABCDEFGHIJKLMNOP\n"
                + "00001010: 5152 53ff                                QRS.\n", out.toString());
    }
}
