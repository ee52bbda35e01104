package io.shmkit.channel;

import java.time.Duration;
import java.util.Random;
import java.util.zip.CRC32C;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A channel participant in its own process, for multi-process and kill tests. Messages carry
 * {@code [producer id u32][length u32][sequence u64][filler ...][crc32c u64]}, so a consumer checks
 * each one for corruption, loss, duplication and per-producer order without knowing the sender's
 * seed.
 *
 * <pre>
 * produce NAME KIND PRODUCER_ID COUNT MAX_LENGTH [claim-and-hang]
 *     sends COUNT messages of random sizes (blocking when full), prints "PROGRESS n" now and then
 *     and "DONE"; with claim-and-hang, then claims one more record, prints "CLAIMED" and hangs
 * consume NAME KIND TOTAL [PRODUCERS] [subscriber|consumer] [LAST_SEQ]
 *     receives until TOTAL messages arrived (or, given LAST_SEQ, until producer 0's message LAST_SEQ),
 *     checking them; prints "JOINED position", "GOT p s" for the first message of each producer,
 *     "SEEN n" now and then, and "OK n" at the end (or "BAD why" and exits 3)
 * </pre>
 */
public final class ChannelPeer {
    private ChannelPeer() {
    }

    static final int MIN_LENGTH = 24;

    /** Fills {@code m} (at {@code offset}, {@code length} bytes) with a checkable message. */
    static void fill(MemorySegment m, long offset, int length, int producer, long seq) {
        m.set(ValueLayout.JAVA_INT_UNALIGNED, offset, producer);
        m.set(ValueLayout.JAVA_INT_UNALIGNED, offset + 4, length);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, offset + 8, seq);
        for (int i = 16; i < length - 8; i++) {
            m.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (seq * 31 + i * 7 + producer));
        }
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, offset + length - 8, crc(m, offset, length - 8));
    }

    static long crc(MemorySegment m, long offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(m.asSlice(offset, length).asByteBuffer());
        return crc.getValue();
    }

    /** Null when the message is intact, else what is wrong with it. */
    static String check(Message msg) {
        MemorySegment m = msg.buffer();
        long off = msg.offset();
        int length = msg.length();
        if (length < MIN_LENGTH) {
            return "message of " + length + " bytes is too short";
        }
        if (m.get(ValueLayout.JAVA_INT_UNALIGNED, off + 4) != length) {
            return "length field " + m.get(ValueLayout.JAVA_INT_UNALIGNED, off + 4) + " != " + length;
        }
        if (m.get(ValueLayout.JAVA_LONG_UNALIGNED, off + length - 8) != crc(m, off, length - 8)) {
            return "checksum mismatch";
        }
        return null;
    }

    public static void main(String[] args) throws Exception {
        String name = args[1];
        ChannelKind kind = ChannelKind.valueOf(args[2]);
        ChannelOptions options = ChannelOptions.defaults().capacity(64 * 1024);
        try (Channel ch = Channel.openOrCreate(name, kind, options)) {
            if (args[0].equals("produce")) {
                produce(ch, Integer.parseInt(args[3]), Long.parseLong(args[4]), Integer.parseInt(args[5]),
                        args.length > 6 && args[6].equals("claim-and-hang"));
            } else {
                consume(ch, Long.parseLong(args[3]), args.length > 4 ? Integer.parseInt(args[4]) : 1,
                        args.length > 5 && args[5].equals("subscriber"),
                        args.length > 6 ? Long.parseLong(args[6]) : -1);
            }
        }
    }

    private static void produce(Channel ch, int id, long count, int maxLength, boolean hang) throws Exception {
        Random random = new Random(id * 7919L + count);
        try (ChannelProducer out = ch.producer()) {
            System.out.println("JOINED");
            for (long seq = 0; seq < count; seq++) {
                int length = MIN_LENGTH + random.nextInt(Math.min(maxLength, out.maxMessageLength()) - MIN_LENGTH + 1);
                Claim c;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while ((c = out.tryClaim(id, length)) == null) {
                    if (System.nanoTime() > deadline) {
                        System.out.println("BAD full for 60 s at " + seq);
                        System.exit(3);
                    }
                    Thread.onSpinWait();
                }
                fill(c.buffer(), c.offset(), length, id, seq);
                c.commit();
                if ((seq & 0xffff) == 0) {
                    System.out.println("PROGRESS " + seq);
                }
            }
            System.out.println("DONE");
            if (hang) {
                Claim c = out.tryClaim(id, 64);
                c.buffer().set(ValueLayout.JAVA_BYTE, c.offset(), (byte) 1);
                System.out.println("CLAIMED");
                new java.util.concurrent.CountDownLatch(1).await(); // held until the test kills us: the point
            }
        }
    }

    private static void consume(Channel ch, long total, int producers, boolean subscriber, long lastSeq)
            throws Exception {
        long[] next = new long[Math.max(producers, 64)];
        java.util.Arrays.fill(next, -1);
        long[] got = {0};
        String[] bad = {null};
        try (ChannelConsumer in = subscriber ? ch.subscriber() : ch.consumer()) {
            System.out.println("JOINED " + in.position());
            MessageHandler handler = m -> {
                String why = check(m);
                int p = m.typeId();
                long seq = m.buffer().get(ValueLayout.JAVA_LONG_UNALIGNED, m.offset() + 8);
                if (why == null && (p < 0 || p >= next.length)) {
                    why = "unknown producer " + p;
                }
                if (why == null && next[p] >= 0 && seq != next[p]) {
                    why = "producer " + p + ": expected sequence " + next[p] + ", got " + seq;
                }
                if (why != null) {
                    bad[0] = why;
                    return;
                }
                if (next[p] < 0) {
                    System.out.println("GOT " + p + " " + seq);
                }
                next[p] = seq + 1;
                if ((++got[0] & 0xffff) == 0) {
                    System.out.println("SEEN " + got[0]);
                }
            };
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while ((lastSeq < 0 ? got[0] < total : next[0] <= lastSeq) && bad[0] == null) {
                if (in.poll(handler, 256) == 0) {
                    if (System.nanoTime() > deadline) {
                        bad[0] = "timed out with " + got[0] + " of " + total;
                        break;
                    }
                    in.awaitMessages(Duration.ofMillis(100));
                }
            }
            for (int p = 0; p < next.length; p++) {
                if (next[p] >= 0) {
                    System.out.println("LAST " + p + " " + (next[p] - 1));
                }
            }
            if (bad[0] != null) {
                System.out.println("BAD " + bad[0]);
                System.exit(3);
            }
            System.out.println("OK " + got[0]);
        }
    }
}
