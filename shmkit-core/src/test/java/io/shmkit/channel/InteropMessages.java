package io.shmkit.channel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The messages of the interop tests, and how to check what a C or Python consumer printed.
 *
 * <p>Message {@code seq} of producer {@code p} has type id {@code p} and a payload that is a pure
 * function of both, so a reader can be checked byte for byte without the sender telling it what
 * it sent: mostly binary (producer, sequence number, filler, CRC32 of the rest; lengths from the
 * smallest to the channel's largest, so records wrap around the ring's end in every way), and
 * every 50th a line of text, which the peers print as text rather than hex.
 */
final class InteropMessages {
    private InteropMessages() {
    }

    /** The smallest binary payload: producer, sequence number, CRC. */
    static final int MIN_BINARY = 16;

    static byte[] payload(int producer, long seq, int maxLength) {
        if (seq % 50 == 7) {
            return ("text message " + seq + " from producer " + producer).getBytes(StandardCharsets.US_ASCII);
        }
        int span = maxLength - MIN_BINARY + 1;
        int length = switch ((int) (seq % 10)) {
            case 0 -> maxLength;
            case 1 -> MIN_BINARY;
            default -> MIN_BINARY + (int) Math.floorMod(seq * 7919 + producer * 104729L, span);
        };
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(producer).putLong(seq);
        for (int i = 12; i < length - 4; i++) {
            b.put((byte) (seq * 31 + i * 7 + producer));
        }
        CRC32 crc = new CRC32();
        crc.update(b.array(), 0, length - 4);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** A printed line, {@code TYPE<TAB>LENGTH<TAB>PAYLOAD}, parsed and checked for consistency. */
    record Printed(int type, byte[] payload) {
        static Printed parse(String line) {
            String[] f = line.split("\t", 3);
            assertEquals(3, f.length, "a line of three tab-separated fields: " + line);
            byte[] payload = f[2].startsWith("hex:") ? HexFormat.of().parseHex(f[2], 4, f[2].length())
                    : f[2].getBytes(StandardCharsets.US_ASCII);
            assertEquals(Integer.parseInt(f[1]), payload.length, "printed length of " + line);
            return new Printed(Integer.parseInt(f[0]), payload);
        }
    }

    /** Checks messages as they come, in the order of each producer; counts them. */
    static final class Checker {
        private final String reader;
        private final int maxLength;
        private final long[] next;
        private long total;

        Checker(String reader, int producers, int maxLength) {
            this.reader = reader;
            this.maxLength = maxLength;
            this.next = new long[producers];
        }

        /** Starts each producer's expected sequence at {@code first} (a consumer taking over). */
        Checker from(long first) {
            java.util.Arrays.fill(next, first);
            return this;
        }

        void check(int type, byte[] payload) {
            assertTrue(type >= 0 && type < next.length, reader + ": type id " + type + " names no producer");
            long seq = next[type]++;
            byte[] expected = payload(type, seq, maxLength);
            assertArrayEquals(expected, payload, reader + ": message " + seq + " of producer " + type);
            if (seq % 50 != 7) {
                CRC32 crc = new CRC32();
                crc.update(payload, 0, payload.length - 4);
                assertEquals((int) crc.getValue(), ByteBuffer.wrap(payload, payload.length - 4, 4)
                        .order(ByteOrder.LITTLE_ENDIAN).getInt(), reader + ": checksum of message " + seq);
            }
            total++;
        }

        void check(String line) {
            Printed p = Printed.parse(line);
            check(p.type(), p.payload());
        }

        long total() {
            return total;
        }

        long next(int producer) {
            return next[producer];
        }
    }
}
