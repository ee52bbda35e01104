package io.shmkit.testing;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Payloads that prove their own integrity: {@code [u32 length][u64 crc32 of the rest][bytes]}
 * (big-endian). A value mixed from two writes fails the check. Half of the bytes are one repeated
 * value, so that a mix of two writes shows.
 */
public final class Checksummed {
    private Checksummed() {
    }

    /** The smallest payload. */
    public static final int MIN = 13;

    /** A random payload of {@link #MIN}..capacity bytes. */
    public static byte[] make(Random random, int capacity) {
        int n = MIN + random.nextInt(capacity - MIN + 1);
        byte[] b = new byte[n];
        random.nextBytes(b);
        Arrays.fill(b, 12, 12 + (n - 12) / 2, b[12]);
        CRC32 crc = new CRC32();
        crc.update(b, 12, n - 12);
        ByteBuffer.wrap(b).putInt(n).putLong(crc.getValue());
        return b;
    }

    /** What is wrong with the first {@code n} bytes of {@code b}, or null when they are a whole payload (or empty). */
    public static String problem(byte[] b, int n) {
        if (n == 0) {
            return null;
        }
        if (n < MIN) {
            return "a value of " + n + " bytes";
        }
        ByteBuffer bb = ByteBuffer.wrap(b);
        int len = bb.getInt();
        long sum = bb.getLong();
        if (len != n) {
            return "length says " + len + " but " + n + " bytes were read";
        }
        CRC32 crc = new CRC32();
        crc.update(b, 12, n - 12);
        return crc.getValue() == sum ? null : "checksum mismatch: a torn value";
    }
}
