package io.shmkit.bench.suite;

import io.shmkit.channel.ChannelKind;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One process of a benchmark case, started by {@link Suite}: sets its transport up, prints
 * {@code READY [args for later processes]}, waits for {@code GO} on stdin, runs its role and prints
 * {@code RESULT {json}}. Roles:
 * <ul>
 *   <li>{@code pong}: echoes each message of stream "ping" back on "pong" until the stop message;</li>
 *   <li>{@code ping}: round trips, timed with {@link System#nanoTime()} into an HdrHistogram after a
 *       warm-up, then the stop message;</li>
 *   <li>{@code consumer}: counts messages of "data", checks each producer's sequence, times from the
 *       first measurement mark to the last producer's stop message;</li>
 *   <li>{@code producer}: sends as fast as the transport takes them (waiting when it pushes back):
 *       warm-up, a mark, the measured messages, a stop message.</li>
 * </ul>
 * Sequence numbers: producer id in bits 40..55, a counter below; {@link #MARK} flags the first
 * measured message; {@link #STOP} ends the stream.
 */
public final class Child {
    static final long MARK = 1L << 62;
    static final long STOP = Long.MAX_VALUE;
    private static final long ID_SHIFT = 40;
    private static final long COUNTER_MASK = (1L << ID_SHIFT) - 1;

    private final Config config;
    private final Transport transport;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<String, Object> result = new LinkedHashMap<>();

    private Child(Config config, Transport transport) {
        this.config = config;
        this.transport = transport;
    }

    public static void main(String[] args) throws Exception {
        Config config = Config.parse(args);
        String role = config.get("role");
        Transport transport = transport(config.get("transport"));
        List<String> streams = switch (role) {
            case "ping", "pong" -> List.of("ping", "pong");
            default -> List.of("data");
        };
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (transport) {
            String forward = transport.start(config, config.get("first", "false").equals("true"), streams);
            Child child = new Child(config, transport);
            Runnable run = child.prepare(role);
            System.out.println(("READY " + forward).trim());
            System.out.flush();
            String go = stdin.readLine();
            if (!"GO".equals(go)) {
                System.err.println("child: expected GO, got " + go);
                System.exit(3);
            }
            run.run();
            System.out.println("RESULT " + Json.write(child.result));
            System.out.flush();
            // Wait for the orchestrator's "close" line: the first process holds shared resources
            // (the media driver, the listening socket) that the others may still use.
            stdin.readLine();
        }
    }

    static Transport transport(String name) {
        return switch (name) {
            case "shmkit-1to1" -> new ShmkitTransport(ChannelKind.ONE_TO_ONE);
            case "shmkit-mto1" -> new ShmkitTransport(ChannelKind.MANY_TO_ONE);
            case "shmkit-pubsub" -> new ShmkitTransport(ChannelKind.PUBLISH_SUBSCRIBE);
            case "aeron-ipc" -> new AeronTransport();
            case "agrona-1to1" -> new AgronaTransport(false);
            case "agrona-mto1" -> new AgronaTransport(true);
            case "chronicle" -> new ChronicleTransport();
            case "uds" -> new SocketTransport(false);
            case "tcp" -> new SocketTransport(true);
            default -> throw new IllegalArgumentException("unknown transport " + name);
        };
    }

    /** Opens the streams of the role (before READY); returns what runs after GO. */
    private Runnable prepare(String role) throws Exception {
        return switch (role) {
            case "pong" -> {
                Transport.Receiver in = transport.receiver("ping");
                Transport.Sender out = transport.sender("pong");
                yield () -> unchecked(() -> pong(in, out));
            }
            case "ping" -> {
                Transport.Receiver in = transport.receiver("pong");
                Transport.Sender out = transport.sender("ping");
                yield () -> unchecked(() -> ping(out, in));
            }
            case "consumer" -> {
                Transport.Receiver in = transport.receiver("data");
                yield () -> unchecked(() -> consume(in));
            }
            case "producer" -> {
                Transport.Sender out = transport.sender("data");
                yield () -> unchecked(() -> produce(out));
            }
            default -> throw new IllegalArgumentException("unknown role " + role);
        };
    }

    private interface Body {
        void run() throws Exception;
    }

    private static void unchecked(Body body) {
        try {
            body.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Ping-pong

    /**
     * The last message a sink saw. {@code fresh} says a poll delivered one: a poll's count is not
     * enough, as Aeron counts fragments, and a fragment of a large message delivers nothing yet.
     */
    private static final class Last implements Transport.Sink {
        long seq = -1;
        int length;
        boolean fresh;

        /** Polls once; true when a whole message arrived. */
        boolean poll(Transport.Receiver in) throws Exception {
            fresh = false;
            in.poll(this, 1);
            return fresh;
        }

        @Override
        public void onMessage(long firstWord, long lastWord, int len) {
            if (firstWord != lastWord) {
                throw new IllegalStateException("torn message: first word " + firstWord + ", last " + lastWord);
            }
            seq = firstWord;
            length = len;
            fresh = true;
        }
    }

    private static void send(Transport.Sender out, long seq, int size) throws Exception {
        while (!out.offer(seq, size)) {
            Thread.onSpinWait();
        }
    }

    private void pong(Transport.Receiver in, Transport.Sender out) throws Exception {
        int size = config.size();
        Last last = new Last();
        long cpu0 = 0;
        long t0 = 0;
        long count = 0;
        while (true) {
            if (!last.poll(in)) {
                in.idle();
                continue;
            }
            if (t0 == 0) {
                t0 = System.nanoTime();
                cpu0 = threads.getCurrentThreadCpuTime();
            }
            if (last.length != size) {
                throw new IllegalStateException("message of " + last.length + " bytes, expected " + size);
            }
            send(out, last.seq, size);
            if (last.seq == STOP) {
                break;
            }
            count++;
        }
        long wall = System.nanoTime() - t0;
        result.put("echoed", count);
        result.put("wallNanos", wall);
        result.put("cpuNanos", threads.getCurrentThreadCpuTime() - cpu0);
        result.put("processCpuNanos", processCpuNanos());
    }

    private void ping(Transport.Sender out, Transport.Receiver in) throws Exception {
        int size = config.size();
        long warmupNanos = (long) (config.doubleValue("warmup", 1) * 1e9);
        long maxNanos = (long) (config.doubleValue("duration", 2) * 1e9);
        long rounds = config.longValue("rounds", 1_000_000);
        long pause = config.longValue("pauseNanos", 0);
        Last last = new Last();
        Histogram histogram = new Histogram(3_600_000_000_000L, 3);
        long seq = 0;
        long warmupEnd = System.nanoTime() + warmupNanos;
        long warmupRounds = 0;
        while (System.nanoTime() - warmupEnd < 0 && warmupRounds < config.longValue("maxWarmupRounds", Long.MAX_VALUE)) {
            roundTrip(out, in, last, ++seq, size);
            warmupRounds++;
            pause(pause);
        }
        long start = System.nanoTime();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long deadline = start + maxNanos;
        long n = 0;
        while (n < rounds && ((n & 255) != 0 || System.nanoTime() - deadline < 0)) {
            long t0 = System.nanoTime();
            roundTrip(out, in, last, ++seq, size);
            histogram.recordValue(System.nanoTime() - t0);
            n++;
            pause(pause);
        }
        long wall = System.nanoTime() - start;
        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
        send(out, STOP, size);
        // The echo of the stop message: the ponger has finished before we report.
        do {
            while (!last.poll(in)) {
                in.idle();
            }
        } while (last.seq != STOP);
        result.put("warmupRounds", warmupRounds);
        result.put("count", histogram.getTotalCount());
        result.put("p50", histogram.getValueAtPercentile(50));
        result.put("p90", histogram.getValueAtPercentile(90));
        result.put("p99", histogram.getValueAtPercentile(99));
        result.put("p999", histogram.getValueAtPercentile(99.9));
        result.put("max", histogram.getMaxValue());
        result.put("mean", Math.round(histogram.getMean() * 10) / 10.0);
        result.put("wallNanos", wall);
        result.put("cpuNanos", cpu);
        result.put("processCpuNanos", processCpuNanos());
    }

    /** Blocking mode: a pause between round trips lets the other side go idle, so that it must be woken. */
    private static void pause(long nanos) {
        if (nanos > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(nanos);
        }
    }

    private static void roundTrip(Transport.Sender out, Transport.Receiver in, Last last, long seq, int size)
            throws Exception {
        send(out, seq, size);
        while (true) {
            if (!last.poll(in)) {
                in.idle();
            } else if (last.seq == seq) {
                return;
            } else {
                throw new IllegalStateException("round trip " + seq + " came back as " + last.seq);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Throughput

    private final class Counter implements Transport.Sink {
        final long[] next = new long[64];
        final int size = config.size();
        long marks;
        long stops;
        long count;
        long start;
        long cpu0;
        long bad;
        /** Rates of 10 ms windows of the measurement, to show how steady it was. */
        final java.util.List<Double> windows = new java.util.ArrayList<>();
        long windowStart;
        long windowCount;

        void tick() {
            if (marks == 0 || stops > 0) {
                return;
            }
            long now = System.nanoTime();
            if (windowStart == 0) {
                windowStart = now;
                windowCount = count;
            } else if (now - windowStart >= 10_000_000) {
                windows.add((count - windowCount) * 1e9 / (now - windowStart));
                windowStart = now;
                windowCount = count;
            }
        }

        @Override
        public void onMessage(long firstWord, long lastWord, int length) {
            if (firstWord != lastWord || length != size) {
                bad++;
                return;
            }
            if (firstWord == STOP) {
                stops++;
                return;
            }
            if ((firstWord & MARK) != 0) {
                if (marks++ == 0) {
                    start = System.nanoTime();
                    cpu0 = threads.getCurrentThreadCpuTime();
                }
                firstWord &= ~MARK;
            }
            int id = (int) (firstWord >>> ID_SHIFT);
            long counter = firstWord & COUNTER_MASK;
            if (id >= next.length || counter != next[id]) {
                bad++;
            } else {
                next[id] = counter + 1;
            }
            if (marks > 0) {
                count++;
            }
        }
    }

    private void consume(Transport.Receiver in) throws Exception {
        int producers = config.intValue("producers", 1);
        Counter counter = new Counter();
        while (counter.stops < producers) {
            if (in.poll(counter, 256) == 0) {
                in.idle();
            }
            counter.tick();
        }
        long wall = System.nanoTime() - counter.start;
        long cpu = threads.getCurrentThreadCpuTime() - counter.cpu0;
        if (counter.bad > 0) {
            throw new IllegalStateException(counter.bad + " messages out of sequence or torn");
        }
        result.put("messages", counter.count);
        result.put("wallNanos", wall);
        result.put("messagesPerSecond", counter.count * 1e9 / wall);
        result.put("bytesPerSecond", counter.count * (double) counter.size * 1e9 / wall);
        result.put("cpuNanos", cpu);
        result.put("processCpuNanos", processCpuNanos());
        java.util.List<Double> w = counter.windows.stream().sorted().toList();
        if (!w.isEmpty()) {
            result.put("windows", w.size());
            result.put("windowMin", w.getFirst());
            result.put("windowMedian", w.get(w.size() / 2));
            result.put("windowMax", w.getLast());
        }
    }

    private void produce(Transport.Sender out) throws Exception {
        int size = config.size();
        long id = config.intValue("id", 0);
        long warmupNanos = (long) (config.doubleValue("warmup", 1) * 1e9);
        long durationNanos = (long) (config.doubleValue("duration", 2) * 1e9);
        long maxMessages = config.longValue("maxMessages", Long.MAX_VALUE);
        boolean yielding = config.yielding();
        long counter = 0;
        long pushedBack = 0;
        long warmupEnd = System.nanoTime() + warmupNanos;
        long measured = 0;
        long end = Long.MAX_VALUE;
        boolean marked = false;
        while (true) {
            long seq = id << ID_SHIFT | counter;
            if (!marked && (counter & 63) == 0 && (System.nanoTime() - warmupEnd >= 0 || counter >= maxMessages / 4)) {
                marked = true;
                seq |= MARK;
                end = System.nanoTime() + durationNanos;
            }
            while (!out.offer(seq, size)) {
                pushedBack++;
                if (yielding) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
            counter++;
            if (marked && (++measured >= maxMessages || (measured & 63) == 0 && System.nanoTime() - end >= 0)) {
                break;
            }
        }
        send(out, STOP, size);
        result.put("sent", counter);
        result.put("measured", measured);
        result.put("pushedBack", pushedBack);
        result.put("processCpuNanos", processCpuNanos());
    }

    private static long processCpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }
}
