package io.shmkit.channel;

import java.io.IOException;
import java.time.Duration;

/**
 * A producer in a process of its own, for the interop tests.
 *
 * <pre>
 * send NAME PRODUCER COUNT   sends InteropMessages 0..COUNT-1 of PRODUCER (type id PRODUCER), prints "SENT"
 * claim NAME                 claims a record and writes half of it, prints "CLAIMED", then waits to be killed
 * </pre>
 */
public final class ChannelProducerPeer {
    private ChannelProducerPeer() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        try (Channel ch = Channel.open(args[1]); ChannelProducer out = ch.producer()) {
            switch (args[0]) {
                case "send" -> {
                    int producer = Integer.parseInt(args[2]);
                    long count = Long.parseLong(args[3]);
                    for (long seq = 0; seq < count; seq++) {
                        byte[] b = InteropMessages.payload(producer, seq, ch.maxMessageLength());
                        if (!out.send(producer, b, Duration.ofSeconds(30))) {
                            throw new IllegalStateException("no space for 30 s at message " + seq);
                        }
                    }
                    System.out.println("SENT");
                }
                case "claim" -> {
                    Claim c = out.tryClaim(0, 100);
                    c.segment().asSlice(0, 50).fill((byte) 0x55);
                    System.out.println("CLAIMED");
                    System.in.read();
                }
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        }
    }
}
