package io.shmkit;

import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.internal.layout.SeqLockDescriptor;
import io.shmkit.testing.Checksummed;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SeqLock within one process: values, versions, following, dead writers, bad input. */
class SeqLockTest {

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writesAndReadsWholeValuesWithVersions() throws Exception {
        String name = names.unique("values");
        try (SeqLock w = SeqLock.create(name, 64); SeqLock r = SeqLock.open(name, SegmentOptions.defaults()
                .access(Access.READ_ONLY))) {
            assertEquals(64, r.capacity());
            assertEquals(0, r.version());
            assertArrayEquals(new byte[0], r.read());
            assertEquals(1, w.write(utf8("first")));
            assertEquals(2, w.write(utf8("the second value")));
            SeqLock.Snapshot snap = r.snapshot();
            assertEquals(2, snap.version());
            assertEquals("the second value", new String(snap.value(), StandardCharsets.UTF_8));
            byte[] buffer = new byte[64];
            int n = r.read(buffer);
            assertEquals("the second value", new String(buffer, 0, n, StandardCharsets.UTF_8));
            assertThrows(IllegalArgumentException.class, () -> r.read(new byte[10]));
            assertThrows(IllegalArgumentException.class, () -> w.write(new byte[65]));
            assertFalse(r.isWritable());
            assertThrows(IllegalStateException.class, () -> r.write(utf8("no")));
            assertEquals(3, w.write(new byte[64]));
        }
    }

    @Test
    void readersInOtherThreadsNeverSeeATornValue() throws Exception {
        String name = names.unique("torn");
        try (SeqLock lock = SeqLock.create(name, 4096)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong reads = new AtomicLong();
            AtomicReference<String> failure = new AtomicReference<>();
            Thread[] readers = new Thread[2];
            for (int i = 0; i < readers.length; i++) {
                readers[i] = Thread.ofPlatform().start(() -> {
                    byte[] buf = new byte[4096];
                    try {
                        while (!stop.get()) {
                            int n = lock.read(buf);
                            String problem = Checksummed.problem(buf, n);
                            if (problem != null) {
                                failure.compareAndSet(null, problem);
                                return;
                            }
                            reads.incrementAndGet();
                        }
                    } catch (ShmException e) {
                        failure.compareAndSet(null, e.toString());
                    }
                });
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
            long writes = 0;
            java.util.Random random = new java.util.Random(1);
            while (System.nanoTime() < deadline || reads.get() < 1000) {
                lock.write(Checksummed.make(random, 4096));
                writes++;
                if (System.nanoTime() - deadline > TimeUnit.SECONDS.toNanos(20)) {
                    break;
                }
            }
            stop.set(true);
            for (Thread t : readers) {
                t.join();
            }
            assertNull(failure.get());
            assertTrue(reads.get() >= 1000, "reads " + reads.get() + ", writes " + writes);
        }
    }

    @Test
    void followersAreWokenByTheNextWrite() throws Exception {
        String name = names.unique("follow");
        try (SeqLock w = SeqLock.create(name, 64); SeqLock r = SeqLock.open(name)) {
            long seen = r.version();
            assertFalse(r.awaitChange(seen, Duration.ofMillis(50)), "nothing new: times out");
            AtomicReference<String> got = new AtomicReference<>();
            Thread follower = Thread.ofPlatform().start(() -> {
                try {
                    if (r.awaitChange(seen, Duration.ofSeconds(30))) {
                        got.set(new String(r.read(), StandardCharsets.UTF_8));
                    }
                } catch (Exception e) {
                    got.set(e.toString());
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            try (Segment s = SharedMemory.open(name); View v = s.map()) {
                while (v.memory().get(ValueLayout.JAVA_INT, SeqLockDescriptor.FOLLOWERS_OFFSET) < 1) {
                    assertTrue(System.nanoTime() < deadline, "the follower never registered");
                    Thread.onSpinWait();
                }
            }
            w.write(utf8("news"));
            assertTrue(follower.join(Duration.ofSeconds(30)));
            assertEquals("news", got.get());
            assertTrue(r.awaitChange(seen, Duration.ZERO));
            assertFalse(r.awaitChange(r.version(), Duration.ZERO));
        }
    }

    @Test
    void aWriterThatDiedMidWriteIsReportedToReadersAndRepairedByTheNextWriter() throws Exception {
        String name = names.unique("deadwriter");
        Process gone = new ProcessBuilder("true").start();
        assertTrue(gone.waitFor(30, TimeUnit.SECONDS));
        try (Segment seg = SharedMemory.create(name, SeqLock.sizeFor(64)); View v = seg.map()) {
            SeqLock lock = SeqLock.initialize(v, 0, 64);
            lock.write(utf8("good"));
            // What a writer killed mid-write leaves: an odd sequence, half a value, and the writers'
            // mutex still recording it as owner.
            long seq = v.memory().get(ValueLayout.JAVA_LONG, SeqLockDescriptor.SEQUENCE_OFFSET);
            v.memory().set(ValueLayout.JAVA_LONG, SeqLockDescriptor.SEQUENCE_OFFSET, seq + 1);
            v.putString(SeqLockDescriptor.PAYLOAD_OFFSET, "ba");
            v.memory().set(ValueLayout.JAVA_LONG, SeqLockDescriptor.WRITER_MUTEX_OFFSET
                    + MutexDescriptor.LOCK_WORD_OFFSET, MutexDescriptor.tag((int) gone.pid(), 7));
            long start = System.nanoTime();
            ShmException e = assertThrows(ShmException.class, lock::read);
            assertTrue(e.getMessage().contains("died while writing") && e.getMessage().contains("pid " + gone.pid()),
                    e.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "reported within a bounded time");

            assertEquals(3, lock.write(utf8("repaired")), "the next writer skips the dead write's version");
            assertEquals("repaired", new String(lock.read(), StandardCharsets.UTF_8));
            SharedMutex writers = SharedMutex.attach(v, SeqLockDescriptor.WRITER_MUTEX_OFFSET);
            assertTrue(writers.isConsistent(), "the writer that took over marked it consistent");
            assertEquals(1, writers.abandonCount());
        }
    }

    /**
     * write(MemorySegment) of a segment that cannot be read (its arena closed, or confined to
     * another thread) fails; it must fail before the write starts, not leave the sequence odd
     * with nobody writing, which made every read wait 5 s for the stuck write and then throw.
     */
    @Test
    void aWriteFromAnUnreadableSegmentFailsAndLeavesTheValueReadable() throws Exception {
        String name = names.unique("badsource");
        try (Segment seg = SharedMemory.create(name, SeqLock.sizeFor(64)); View v = seg.map()) {
            SeqLock lock = SeqLock.initialize(v, 0, 64);
            lock.write(utf8("good"));
            MemorySegment closed;
            try (Arena arena = Arena.ofConfined()) {
                closed = arena.allocate(8);
            }
            MemorySegment closedSource = closed;
            assertThrows(IllegalStateException.class, () -> lock.write(closedSource));
            // a segment of an arena confined to another thread, which closes it when we are done
            java.util.concurrent.SynchronousQueue<MemorySegment> handOver = new java.util.concurrent.SynchronousQueue<>();
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                try (Arena elsewhere = Arena.ofConfined()) {
                    handOver.put(elsewhere.allocate(8));
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            MemorySegment confined = handOver.poll(60, TimeUnit.SECONDS);
            try {
                assertThrows(WrongThreadException.class, () -> lock.write(confined));
            } finally {
                done.countDown();
                owner.join();
            }
            long start = System.nanoTime();
            SeqLock.Snapshot now = lock.snapshot();
            assertEquals("good", new String(now.value(), StandardCharsets.UTF_8));
            assertEquals(1, now.version());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1), "read at once");
            assertEquals(2, lock.write(utf8("next")));
        }
    }

    @Test
    void aWriteStuckForeverEndsInAnExceptionNotAHang() throws Exception {
        String name = names.unique("stuck");
        try (Segment seg = SharedMemory.create(name, SeqLock.sizeFor(64)); View v = seg.map()) {
            SeqLock lock = SeqLock.initialize(v, 0, 64);
            // an odd sequence with no writer recorded (as a foreign writer without the mutex leaves it)
            v.memory().set(ValueLayout.JAVA_LONG, SeqLockDescriptor.SEQUENCE_OFFSET, 5L);
            long start = System.nanoTime();
            ShmException e = assertThrows(ShmException.class, lock::read);
            long took = System.nanoTime() - start;
            assertTrue(e.getMessage().contains("in progress"), e.getMessage());
            assertTrue(took >= SeqLock.STUCK_WRITE_TIMEOUT.toNanos() && took < TimeUnit.SECONDS.toNanos(30),
                    "took " + took / 1_000_000 + " ms");
        }
    }

    @Test
    void badInputIsAClearError() throws Exception {
        String name = names.unique("badseq");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SegmentFormatException e = assertThrows(SegmentFormatException.class, () -> SeqLock.initialize(v, 0, 4000));
            assertTrue(e.getMessage().contains("needs 4128 bytes"), e.getMessage());
            assertThrows(SegmentFormatException.class, () -> SeqLock.attach(v, 4));
            SeqLock.initialize(v, 0, 100);
            v.memory().set(ValueLayout.JAVA_INT, SeqLockDescriptor.CAPACITY_OFFSET, 1 << 20);
            e = assertThrows(SegmentFormatException.class, () -> SeqLock.attach(v, 0));
            assertTrue(e.getMessage().contains("capacity"), e.getMessage());
            SeqLock lock = SeqLock.initialize(v, 0, 100);
            v.memory().set(ValueLayout.JAVA_INT, SeqLockDescriptor.LENGTH_OFFSET, 5000);
            e = assertThrows(SegmentFormatException.class, () -> SeqLock.attach(v, 0));
            assertTrue(e.getMessage().contains("length"), e.getMessage());
            e = assertThrows(SegmentFormatException.class, lock::read);
            assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> SeqLock.sizeFor(0));
    }
}
