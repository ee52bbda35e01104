package io.shmkit.channel;

import io.shmkit.SharedMemory;
import io.shmkit.Segment;
import io.shmkit.View;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * A consumer (or named subscriber) that keeps, in a ledger segment of its own, the last sequence
 * it handled of each producer of {@link ChannelPeer}'s messages, so that its successor after a
 * SIGKILL checks exactly what the channel delivers across the restart: each producer's next
 * sequence, or (only as the successor's very first message) the message the killed one was
 * handling, again. The ledger is {@code long[64]} of last sequences (-1 before any), written by the
 * handler before it returns, as a consumer's side effect would be.
 *
 * <pre>
 * NAME LEDGER PRODUCERS LAST_SEQ [SUBSCRIBER_NAME]
 *     receives until each of producers 0..PRODUCERS-1 delivered its LAST_SEQ; prints "JOINED",
 *     "SEEN n" every 256 messages, "AGAIN p s" for the message in flight delivered again,
 *     "OK n" at the end, or "BAD why" (exit 3)
 * </pre>
 */
public final class ChannelLedgerPeer {
    private ChannelLedgerPeer() {
    }

    public static void main(String[] args) throws Exception {
        String name = args[0];
        int producers = Integer.parseInt(args[2]);
        long lastSeq = Long.parseLong(args[3]);
        String subscriber = args.length > 4 ? args[4] : null;
        try (Segment ls = SharedMemory.open(args[1]); View lv = ls.map(); Channel ch = Channel.open(name);
             ChannelConsumer in = subscriber != null ? ch.subscriber(subscriber) : ch.consumer()) {
            MemorySegment ledger = lv.memory();
            System.out.println("JOINED " + in.position());
            if (in.lostBytes() != 0) {
                System.out.println("BAD the subscriber lost " + in.lostBytes() + " bytes");
                System.exit(3);
            }
            long[] got = {0};
            String[] bad = {null};
            MessageHandler handler = m -> {
                String why = ChannelPeer.check(m);
                int p = m.typeId();
                long seq = m.buffer().get(ValueLayout.JAVA_LONG_UNALIGNED, m.offset() + 8);
                if (why == null && (p < 0 || p >= producers)) {
                    why = "unknown producer " + p;
                }
                long last = why == null ? ledger.getAtIndex(ValueLayout.JAVA_LONG, p) : 0;
                if (why == null && seq == last && got[0] == 0) {
                    System.out.println("AGAIN " + p + " " + seq);
                } else if (why == null && seq != last + 1) {
                    why = "producer " + p + ": expected sequence " + (last + 1) + ", got " + seq
                            + " (message " + got[0] + " of this process)";
                }
                if (why != null) {
                    if (bad[0] == null) {
                        bad[0] = why;
                    }
                    return;
                }
                ledger.setAtIndex(ValueLayout.JAVA_LONG, p, seq);
                if ((++got[0] & 255) == 0) {
                    System.out.println("SEEN " + got[0]);
                }
            };
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (bad[0] == null && !done(ledger, producers, lastSeq)) {
                if (in.poll(handler, 64) == 0) {
                    if (System.nanoTime() > deadline) {
                        bad[0] = "timed out with " + got[0] + " messages";
                        break;
                    }
                    in.awaitMessages(Duration.ofMillis(100));
                }
            }
            if (bad[0] != null) {
                System.out.println("BAD " + bad[0]);
                System.exit(3);
            }
            System.out.println("OK " + got[0]);
        }
    }

    private static boolean done(MemorySegment ledger, int producers, long lastSeq) {
        for (int p = 0; p < producers; p++) {
            if (ledger.getAtIndex(ValueLayout.JAVA_LONG, p) < lastSeq) {
                return false;
            }
        }
        return true;
    }
}
