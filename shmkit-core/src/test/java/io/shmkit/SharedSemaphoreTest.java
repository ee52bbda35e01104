package io.shmkit;

import io.shmkit.internal.layout.SemaphoreDescriptor;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SharedSemaphore within one process. */
class SharedSemaphoreTest {

    private static final long WAIT_SECONDS = 30;

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    @Test
    void countsWithAMaximum() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(names.unique("count"), 2, 3)) {
            assertEquals(2, s.availablePermits());
            assertEquals(3, s.maxPermits());
            assertTrue(s.tryAcquire());
            assertTrue(s.tryAcquire());
            assertFalse(s.tryAcquire());
            s.release(3);
            assertEquals(3, s.availablePermits());
            IllegalStateException e = assertThrows(IllegalStateException.class, s::release);
            assertTrue(e.getMessage().contains("at most 3"), e.getMessage());
            assertEquals(3, s.availablePermits(), "a refused release changes nothing");
            assertTrue(s.tryAcquire(3));
            assertThrows(IllegalArgumentException.class, () -> s.tryAcquire(4));
            assertThrows(IllegalArgumentException.class, () -> s.release(0));
        }
        assertThrows(IllegalArgumentException.class, () -> SharedSemaphore.create(names.unique("bad"), 2, 1));
    }

    @Test
    void acquireWaitsForARelease() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(names.unique("wait"), 0, 5)) {
            AtomicInteger got = new AtomicInteger();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    s.acquire(2);
                    got.set(2);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            s.release();
            assertFalse(t.join(Duration.ofMillis(50)), "one permit is not enough");
            s.release();
            assertTrue(t.join(Duration.ofSeconds(WAIT_SECONDS)));
            assertEquals(2, got.get());
            assertEquals(0, s.availablePermits());
        }
    }

    @Test
    void timeoutsAndInterrupts() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(names.unique("ti"), 0, 1)) {
            long start = System.nanoTime();
            assertFalse(s.tryAcquire(Duration.ofMillis(150)));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(150));
            for (Thread.Builder b : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
                AtomicReference<Throwable> outcome = new AtomicReference<>();
                CountDownLatch started = new CountDownLatch(1);
                Thread t = b.start(() -> {
                    started.countDown();
                    try {
                        s.acquire();
                        outcome.set(new AssertionError("acquired nothing"));
                    } catch (Throwable e) {
                        outcome.set(e);
                    }
                });
                assertTrue(started.await(WAIT_SECONDS, TimeUnit.SECONDS));
                t.interrupt();
                assertTrue(t.join(Duration.ofSeconds(WAIT_SECONDS)));
                assertInstanceOf(InterruptedException.class, outcome.get());
            }
            s.release();
            assertTrue(s.tryAcquire(1, TimeUnit.SECONDS));
        }
    }

    @Test
    void boundsConcurrencyAcrossThreads() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(names.unique("bound"), 2, 2)) {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger most = new AtomicInteger();
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(6)) {
                for (int i = 0; i < 6; i++) {
                    pool.submit(() -> {
                        for (int k = 0; k < 300; k++) {
                            s.acquire();
                            int now = inside.incrementAndGet();
                            most.accumulateAndGet(now, Math::max);
                            Thread.onSpinWait();
                            inside.decrementAndGet();
                            s.release();
                        }
                        return null;
                    });
                }
            }
            assertEquals(2, s.availablePermits());
            assertTrue(most.get() <= 2, "at most 2 inside, saw " + most.get());
        }
    }

    @Test
    void badInputIsAClearError() throws Exception {
        String name = names.unique("badsem");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedSemaphore s = SharedSemaphore.initialize(v, 64, 1, 2);
            v.memory().set(ValueLayout.JAVA_INT, 64 + SemaphoreDescriptor.COUNT_OFFSET, 77);
            SegmentFormatException e = assertThrows(SegmentFormatException.class, () -> SharedSemaphore.attach(v, 64));
            assertTrue(e.getMessage().contains("count holds 77"), e.getMessage());
            IllegalStateException ise = assertThrows(IllegalStateException.class, s::tryAcquire);
            assertInstanceOf(SegmentFormatException.class, ise.getCause());
            v.memory().set(ValueLayout.JAVA_INT, 64 + SemaphoreDescriptor.MAX_OFFSET, 0);
            e = assertThrows(SegmentFormatException.class, () -> SharedSemaphore.attach(v, 64));
            assertTrue(e.getMessage().contains("maximum"), e.getMessage());
            assertThrows(SegmentFormatException.class, () -> SharedSemaphore.initialize(v, 4090, 0, 1));
            assertThrows(SegmentFormatException.class, () -> SharedSemaphore.attach(v, 1));
        }
        // a semaphore's header in a segment too small for a semaphore: openOrCreate, like open, says so
        String truncated = names.unique("truncated");
        try (Segment seg = SharedMemory.create(truncated, 16); View v = seg.map()) {
            v.memory().set(ValueLayout.JAVA_INT, 0, SemaphoreDescriptor.MAGIC);
            v.memory().set(ValueLayout.JAVA_SHORT, 4, (short) SemaphoreDescriptor.VERSION);
            for (var call : java.util.List.<org.junit.jupiter.api.function.Executable>of(
                    () -> SharedSemaphore.open(truncated), () -> SharedSemaphore.openOrCreate(truncated, 1, 1))) {
                SegmentFormatException e = assertThrows(SegmentFormatException.class, call);
                assertTrue(e.getMessage().contains(truncated) && e.getMessage().contains("too small"), e.getMessage());
            }
        }
    }
}
