package io.shmkit.bench;

import io.shmkit.channel.Channel;
import io.shmkit.channel.ChannelConsumer;
import io.shmkit.channel.ChannelKind;
import io.shmkit.channel.ChannelOptions;
import io.shmkit.channel.ChannelProducer;
import io.shmkit.channel.Claim;
import io.shmkit.channel.Message;
import io.shmkit.channel.MessageHandler;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.File;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Single-process hot paths of channels, one thread: each operation sends one 32-byte message and
 * polls it back out (claim, write, commit, poll, handler), so the figure is the whole cost of a
 * message with every cache line local. Against it, the same with Agrona's rings (mapped from a
 * file in /dev/shm, like shmkit's segments) in the same run. The cross-process figures are the
 * suite's ({@code ./bench suite}, docs/benchmarks.md).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ChannelBench {
    private static final int SIZE = 32;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private Channel oneToOne;
    private ChannelProducer oneToOneProducer;
    private ChannelConsumer oneToOneConsumer;
    private Channel manyToOne;
    private ChannelProducer manyToOneProducer;
    private ChannelConsumer manyToOneConsumer;
    private final byte[] payload = new byte[SIZE];
    private long sum;
    private final MessageHandler handler = this::onMessage;

    private File agronaOneFile;
    private File agronaManyFile;
    private MappedByteBuffer agronaOneMap;
    private MappedByteBuffer agronaManyMap;
    private RingBuffer agronaOne;
    private RingBuffer agronaMany;
    private final org.agrona.concurrent.MessageHandler agronaHandler =
            (type, buffer, index, length) -> sum += buffer.getLong(index, ByteOrder.LITTLE_ENDIAN);

    @Setup
    public void setUp() throws Exception {
        String base = "shmkit-jmh-" + ProcessHandle.current().pid();
        ChannelOptions options = ChannelOptions.defaults().capacity(1 << 20);
        oneToOne = Channel.create(base + "-1to1", ChannelKind.ONE_TO_ONE, options);
        oneToOneProducer = oneToOne.producer();
        oneToOneConsumer = oneToOne.consumer();
        manyToOne = Channel.create(base + "-mto1", ChannelKind.MANY_TO_ONE, options);
        manyToOneProducer = manyToOne.producer();
        manyToOneConsumer = manyToOne.consumer();
        long length = (1 << 20) + RingBufferDescriptor.TRAILER_LENGTH;
        agronaOneFile = new File("/dev/shm/" + base + "-agrona-1to1");
        agronaManyFile = new File("/dev/shm/" + base + "-agrona-mto1");
        agronaOneMap = IoUtil.mapNewFile(agronaOneFile, length);
        agronaManyMap = IoUtil.mapNewFile(agronaManyFile, length);
        agronaOne = new OneToOneRingBuffer(new UnsafeBuffer(agronaOneMap));
        agronaMany = new ManyToOneRingBuffer(new UnsafeBuffer(agronaManyMap));
    }

    @TearDown
    public void tearDown() {
        oneToOneConsumer.close();
        oneToOneProducer.close();
        oneToOne.close();
        manyToOneConsumer.close();
        manyToOneProducer.close();
        manyToOne.close();
        IoUtil.unmap(agronaOneMap);
        IoUtil.unmap(agronaManyMap);
        IoUtil.deleteIfExists(agronaOneFile);
        IoUtil.deleteIfExists(agronaManyFile);
    }

    private void onMessage(Message m) {
        sum += m.buffer().get(LONG, m.offset());
    }

    private static void claimCommit(ChannelProducer producer, long seq) {
        Claim claim = producer.tryClaim(1, SIZE);
        MemorySegment buffer = claim.buffer();
        long offset = claim.offset();
        buffer.set(LONG, offset, seq);
        buffer.set(LONG, offset + SIZE - 8, seq);
        claim.commit();
    }

    /** shmkit one-to-one: tryClaim, two stores, commit, poll. */
    @Benchmark
    public long shmkitOneToOneClaimCommitPoll() {
        claimCommit(oneToOneProducer, sum);
        oneToOneConsumer.poll(handler, 1);
        return sum;
    }

    /** shmkit one-to-one: offer of a 32-byte array (copy), poll. */
    @Benchmark
    public long shmkitOneToOneOfferPoll() {
        oneToOneProducer.offer(1, payload);
        oneToOneConsumer.poll(handler, 1);
        return sum;
    }

    /** shmkit many-to-one: tryClaim (CAS), two stores, commit (CAS), poll (zeroes the record). */
    @Benchmark
    public long shmkitManyToOneClaimCommitPoll() {
        claimCommit(manyToOneProducer, sum);
        manyToOneConsumer.poll(handler, 1);
        return sum;
    }

    private static void agronaClaimCommit(RingBuffer ring, long seq) {
        int index = ring.tryClaim(1, SIZE);
        UnsafeBuffer buffer = (UnsafeBuffer) ring.buffer();
        buffer.putLong(index, seq, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(index + SIZE - 8, seq, ByteOrder.LITTLE_ENDIAN);
        ring.commit(index);
    }

    /** Agrona OneToOneRingBuffer: tryClaim, two stores, commit, read. */
    @Benchmark
    public long agronaOneToOneClaimCommitRead() {
        agronaClaimCommit(agronaOne, sum);
        agronaOne.read(agronaHandler, 1);
        return sum;
    }

    /** Agrona ManyToOneRingBuffer: tryClaim (CAS), two stores, commit, read. */
    @Benchmark
    public long agronaManyToOneClaimCommitRead() {
        agronaClaimCommit(agronaMany, sum);
        agronaMany.read(agronaHandler, 1);
        return sum;
    }
}
