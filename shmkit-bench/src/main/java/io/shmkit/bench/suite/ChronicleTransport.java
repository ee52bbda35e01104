package io.shmkit.bench.suite;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.IdleStrategy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Chronicle Queue: one single-file-per-cycle queue per stream in a directory under /dev/shm,
 * written by an appender ({@code writingDocument()}, message bytes written into the document) and
 * read by a tailer ({@code readingDocument()}, read in place). A queue keeps every message (it is
 * a journal, not a ring): the suite caps the bytes each case writes. Tailers only poll: the
 * block mode uses Agrona's BackoffIdleStrategy, as for the Agrona rings.
 */
final class ChronicleTransport implements Transport {
    private final Map<String, ChronicleQueue> queues = new HashMap<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<Path> created = new ArrayList<>();
    private Config config;

    static Path directory(Config config, String stream) {
        return Path.of("/dev/shm", config.base() + "-" + stream + ".cq");
    }

    @Override
    public String start(Config config, boolean first, List<String> streams) throws IOException {
        this.config = config;
        for (String stream : streams) {
            Path dir = directory(config, stream);
            if (first) {
                Files.createDirectories(dir);
                created.add(dir);
            }
            queues.put(stream, ChronicleQueue.singleBuilder(dir).build());
        }
        return "";
    }

    @Override
    public Sender sender(String stream) {
        ExcerptAppender appender = queues.get(stream).createAppender();
        open.add(appender);
        BytesStore<?, ByteBuffer> source = BytesStore.wrap(ByteBuffer.allocateDirect(Math.max(16, config.size())));
        return (seq, length) -> {
            try (DocumentContext dc = appender.writingDocument()) {
                Bytes<?> bytes = dc.wire().bytes();
                bytes.writeLong(seq);
                bytes.write(source, 8L, length - 16L);
                bytes.writeLong(seq);
            }
            return true;
        };
    }

    @Override
    public Receiver receiver(String stream) {
        ExcerptTailer tailer = queues.get(stream).createTailer();
        open.add(tailer);
        IdleStrategy idle = AgronaTransport.idleStrategy(config);
        return new Receiver() {
            @Override
            public int poll(Sink sink, int limit) {
                int n = 0;
                while (n < limit) {
                    try (DocumentContext dc = tailer.readingDocument()) {
                        if (!dc.isPresent()) {
                            break;
                        }
                        Bytes<?> bytes = dc.wire().bytes();
                        long start = bytes.readPosition();
                        long end = bytes.readLimit();
                        sink.onMessage(bytes.readLong(start), bytes.readLong(end - 8), (int) (end - start));
                    }
                    n++;
                }
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
    public void close() throws IOException {
        for (AutoCloseable c : open.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing anyway
            }
        }
        for (ChronicleQueue q : queues.values()) {
            q.close();
        }
        for (Path dir : created) {
            deleteTree(dir);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
