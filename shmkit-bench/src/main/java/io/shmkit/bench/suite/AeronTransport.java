package io.shmkit.bench.suite;

import io.aeron.Aeron;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Aeron IPC ({@code aeron:ipc}), one stream id per stream. The media driver is embedded in the
 * process started first (the receiver of ping-pong, the consumer, the first subscriber), with its
 * directory under /dev/shm, unique per case, deleted on shutdown. Messages up to the publication's
 * max payload go through {@code tryClaim} (written in place), larger ones through {@code offer}
 * (fragmented at the MTU, reassembled by a {@link FragmentAssembler}).
 */
final class AeronTransport implements Transport {
    static final String CHANNEL = "aeron:ipc";
    private static final Map<String, Integer> STREAM_IDS = Map.of("ping", 1001, "pong", 1002, "data", 1003);

    private MediaDriver driver;
    private Aeron aeron;
    private final List<AutoCloseable> open = new ArrayList<>();
    private Config config;

    /** The driver's threading mode and idle strategy for this many cores, as used and printed. */
    static String driverDescription(int cores) {
        return cores >= 4
                ? "embedded MediaDriver, ThreadingMode.SHARED, BusySpinIdleStrategy (enough cores for a spinning driver)"
                : "embedded MediaDriver, ThreadingMode.SHARED, BackoffIdleStrategy(100 spins, 10 yields, park 1 µs..1 ms)"
                        + " (fewer than 4 cores: a spinning driver thread would take a core from the benchmark)";
    }

    static String directory(Config config) {
        return "/dev/shm/" + config.base() + "-aeron";
    }

    @Override
    public String start(Config config, boolean first, List<String> streams) {
        this.config = config;
        String dir = directory(config);
        if (first) {
            IdleStrategy driverIdle = config.cores() >= 4 ? new BusySpinIdleStrategy()
                    : new BackoffIdleStrategy(100, 10, 1_000, 1_000_000);
            driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                    .aeronDirectoryName(dir)
                    .threadingMode(ThreadingMode.SHARED)
                    .sharedIdleStrategy(driverIdle)
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .warnIfDirectoryExists(false));
        }
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir));
        return "";
    }

    @Override
    public Sender sender(String stream) {
        Publication publication = aeron.addPublication(CHANNEL, STREAM_IDS.get(stream));
        open.add(publication);
        int maxPayload = publication.maxPayloadLength();
        BufferClaim claim = new BufferClaim();
        UnsafeBuffer source = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(16, config.size())));
        return (seq, length) -> {
            if (length <= maxPayload) {
                if (publication.tryClaim(length, claim) <= 0) {
                    return false;
                }
                var buffer = claim.buffer();
                int offset = claim.offset();
                buffer.putLong(offset, seq, ByteOrder.LITTLE_ENDIAN);
                buffer.putBytes(offset + 8, source, 8, length - 16);
                buffer.putLong(offset + length - 8, seq, ByteOrder.LITTLE_ENDIAN);
                claim.commit();
                return true;
            }
            source.putLong(0, seq, ByteOrder.LITTLE_ENDIAN);
            source.putLong(length - 8, seq, ByteOrder.LITTLE_ENDIAN);
            return publication.offer(source, 0, length) > 0;
        };
    }

    @Override
    public Receiver receiver(String stream) {
        Subscription subscription = aeron.addSubscription(CHANNEL, STREAM_IDS.get(stream));
        open.add(subscription);
        IdleStrategy idle = AgronaTransport.idleStrategy(config);
        return new Receiver() {
            private Sink sink;
            private final FragmentHandler handler = new FragmentAssembler((buffer, offset, length, header) ->
                    sink.onMessage(buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN),
                            buffer.getLong(offset + length - 8, ByteOrder.LITTLE_ENDIAN), length));

            @Override
            public int poll(Sink s, int limit) {
                sink = s;
                int n = subscription.poll(handler, limit);
                if (n > 0) {
                    idle.reset();
                }
                return n;
            }

            @Override
            public void idle() {
                idle.idle(0);
            }
        };
    }

    @Override
    public void close() {
        for (AutoCloseable c : open.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing anyway
            }
        }
        if (aeron != null) {
            aeron.close();
        }
        if (driver != null) {
            driver.close();
            IoUtil.delete(new File(directory(config)), true);
        }
    }
}
