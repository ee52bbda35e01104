package io.shmkit.bench.suite;

import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Agrona's OneToOneRingBuffer or ManyToOneRingBuffer over a file in /dev/shm that every process
 * maps ({@link IoUtil#mapNewFile}, {@link IoUtil#mapExistingFile}), wrapped in an
 * {@link UnsafeBuffer}. Senders use {@code tryClaim}/{@code commit} and write in place; receivers
 * {@code read} in place. Idle: BusySpinIdleStrategy, BackoffIdleStrategy (Agrona's defaults: 10
 * spins, 5 yields, then parks from 1 µs to 1 ms; Agrona rings have no blocking wait) or
 * YieldingIdleStrategy.
 */
final class AgronaTransport implements Transport {
    private final boolean manyToOne;
    private final Map<String, RingBuffer> rings = new HashMap<>();
    private final List<MappedByteBuffer> mappings = new ArrayList<>();
    private final List<File> created = new ArrayList<>();
    private Config config;

    AgronaTransport(boolean manyToOne) {
        this.manyToOne = manyToOne;
    }

    static File file(Config config, String stream) {
        return new File("/dev/shm/" + config.base() + "-" + stream + ".agrona");
    }

    @Override
    public String start(Config config, boolean first, List<String> streams) {
        this.config = config;
        for (String stream : streams) {
            File f = file(config, stream);
            long length = config.ring() + RingBufferDescriptor.TRAILER_LENGTH;
            MappedByteBuffer mapped;
            if (first) {
                mapped = IoUtil.mapNewFile(f, length);
                created.add(f);
            } else {
                mapped = IoUtil.mapExistingFile(f, stream);
            }
            mappings.add(mapped);
            UnsafeBuffer buffer = new UnsafeBuffer(mapped);
            rings.put(stream, manyToOne ? new ManyToOneRingBuffer(buffer) : new OneToOneRingBuffer(buffer));
        }
        return "";
    }

    @Override
    public Sender sender(String stream) {
        RingBuffer ring = rings.get(stream);
        UnsafeBuffer buffer = (UnsafeBuffer) ring.buffer();
        UnsafeBuffer source = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(16, config.size())));
        return (seq, length) -> {
            int index = ring.tryClaim(1, length);
            if (index <= 0) {
                return false;
            }
            buffer.putLong(index, seq, ByteOrder.LITTLE_ENDIAN);
            buffer.putBytes(index + 8, source, 8, length - 16);
            buffer.putLong(index + length - 8, seq, ByteOrder.LITTLE_ENDIAN);
            ring.commit(index);
            return true;
        };
    }

    static IdleStrategy idleStrategy(Config config) {
        return config.blocking() ? new BackoffIdleStrategy()
                : config.yielding() ? new YieldingIdleStrategy() : new BusySpinIdleStrategy();
    }

    static String idleDescription(String mode) {
        return switch (mode) {
            case "block" -> "BackoffIdleStrategy() (10 spins, 5 yields, park 1 µs doubling to 1 ms)";
            case "yield" -> "YieldingIdleStrategy";
            default -> "BusySpinIdleStrategy";
        };
    }

    @Override
    public Receiver receiver(String stream) {
        RingBuffer ring = rings.get(stream);
        IdleStrategy idle = idleStrategy(config);
        return new Receiver() {
            private Sink sink;
            private final MessageHandler handler = (type, buffer, index, length) ->
                    sink.onMessage(buffer.getLong(index, ByteOrder.LITTLE_ENDIAN),
                            buffer.getLong(index + length - 8, ByteOrder.LITTLE_ENDIAN), length);

            @Override
            public int poll(Sink s, int limit) {
                sink = s;
                int n = ring.read(handler, limit);
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
        for (MappedByteBuffer m : mappings) {
            IoUtil.unmap(m);
        }
        for (File f : created) {
            IoUtil.deleteIfExists(f);
        }
    }
}
