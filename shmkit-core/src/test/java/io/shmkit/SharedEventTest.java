package io.shmkit;

import io.shmkit.internal.layout.EventDescriptor;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
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

/** SharedEvent within one process: both reset modes, timeouts, interrupts, virtual threads, bad input. */
class SharedEventTest {

    private static final long WAIT_SECONDS = 30;

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    /** Waits until {@code n} threads are registered as sleeping on the event (read from its waiter count). */
    private static void awaitSleepers(View v, long offset, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (v.memory().get(ValueLayout.JAVA_INT, offset + EventDescriptor.WAITERS_OFFSET) < n) {
            assertTrue(System.nanoTime() < deadline, "waiters did not start waiting");
            Thread.onSpinWait();
        }
    }

    @Test
    void manualResetReleasesEveryWaiterAndStaysSet() throws Exception {
        String name = names.unique("manual");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedEvent e = SharedEvent.initialize(v, 0, true);
            assertTrue(e.isManualReset());
            assertFalse(e.isSet());
            AtomicInteger released = new AtomicInteger();
            List<Thread> waiters = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                waiters.add(Thread.ofPlatform().start(() -> {
                    try {
                        e.await();
                        released.incrementAndGet();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            awaitSleepers(v, 0, 4);
            e.set();
            for (Thread t : waiters) {
                assertTrue(t.join(Duration.ofSeconds(WAIT_SECONDS)));
            }
            assertEquals(4, released.get());
            assertTrue(e.isSet(), "stays set");
            assertTrue(e.await(Duration.ZERO), "later waiters pass at once");
            e.reset();
            assertFalse(e.isSet());
            assertFalse(e.await(Duration.ofMillis(50)));
        }
    }

    @Test
    void setThenResetStillReleasesThoseWhoWereWaiting() throws Exception {
        String name = names.unique("pulse");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedEvent e = SharedEvent.initialize(v, 0, true);
            AtomicInteger released = new AtomicInteger();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    if (e.await(Duration.ofSeconds(WAIT_SECONDS))) {
                        released.incrementAndGet();
                    }
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            awaitSleepers(v, 0, 1);
            e.set();
            e.reset();
            assertTrue(waiter.join(Duration.ofSeconds(WAIT_SECONDS)));
            assertEquals(1, released.get(), "a set() seen by the generation count releases the waiter");
        }
    }

    @Test
    void autoResetReleasesExactlyOneWaiterPerSet() throws Exception {
        String name = names.unique("auto");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedEvent e = SharedEvent.initialize(v, 0, false);
            assertFalse(e.isManualReset());
            e.set();
            e.set();
            assertTrue(e.isSet());
            assertTrue(e.await(Duration.ZERO), "consumes the signal");
            assertFalse(e.isSet(), "sets do not accumulate");
            assertFalse(e.await(Duration.ZERO));

            int n = 3;
            AtomicInteger released = new AtomicInteger();
            List<Thread> waiters = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                waiters.add(Thread.ofPlatform().start(() -> {
                    try {
                        e.await();
                        released.incrementAndGet();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            awaitSleepers(v, 0, n);
            for (int i = 1; i <= n; i++) {
                e.set();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
                while (released.get() < i) {
                    assertTrue(System.nanoTime() < deadline, "set #" + i + " released nobody");
                    Thread.onSpinWait();
                }
                assertEquals(i, released.get(), "one waiter per set");
            }
            for (Thread t : waiters) {
                assertTrue(t.join(Duration.ofSeconds(WAIT_SECONDS)));
            }
            assertFalse(e.isSet(), "the last waiter reset it");
        }
    }

    @Test
    void timeoutsAreHonoured() throws Exception {
        try (SharedEvent e = SharedEvent.create(names.unique("timeout"), true)) {
            long start = System.nanoTime();
            assertFalse(e.await(Duration.ofMillis(200)));
            long took = System.nanoTime() - start;
            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(200) && took < TimeUnit.SECONDS.toNanos(5),
                    "took " + took / 1_000_000 + " ms");
            assertFalse(e.await(0, TimeUnit.SECONDS));
            assertFalse(e.await(Duration.ofMillis(-5)));
        }
    }

    @Test
    void waitsAreInterruptibleOnPlatformAndVirtualThreads() throws Exception {
        String name = names.unique("interrupt");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedEvent e = SharedEvent.initialize(v, 0, false);
            for (Thread.Builder builder : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
                AtomicReference<Throwable> outcome = new AtomicReference<>();
                CountDownLatch started = new CountDownLatch(1);
                Thread waiter = builder.start(() -> {
                    started.countDown();
                    try {
                        e.await();
                        outcome.set(new AssertionError("released without a set"));
                    } catch (Throwable t) {
                        outcome.set(t);
                    }
                });
                assertTrue(started.await(WAIT_SECONDS, TimeUnit.SECONDS));
                waiter.interrupt();
                assertTrue(waiter.join(Duration.ofSeconds(WAIT_SECONDS)));
                assertInstanceOf(InterruptedException.class, outcome.get());
            }
            assertEquals(0, v.memory().get(ValueLayout.JAVA_INT, EventDescriptor.WAITERS_OFFSET),
                    "interrupted waiters deregistered");
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> e.await(Duration.ofSeconds(1)));
        }
    }

    @Test
    void virtualThreadsWaitWithoutPinningCarriers() throws Exception {
        try (SharedEvent e = SharedEvent.create(names.unique("virtual"), true)) {
            // Far more waiting virtual threads than carriers: if waiting pinned carriers, the
            // thread that sets the event (itself virtual) could never run.
            int n = 64 * Runtime.getRuntime().availableProcessors();
            CountDownLatch done = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                Thread.ofVirtual().start(() -> {
                    try {
                        e.await();
                        done.countDown();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            Thread setter = Thread.ofVirtual().start(e::set);
            assertTrue(done.await(WAIT_SECONDS, TimeUnit.SECONDS), "all virtual waiters released");
            setter.join();
        }
    }

    @Test
    void badInputIsAClearError() throws Exception {
        String name = names.unique("bad");
        try (Segment seg = SharedMemory.create(name, 10); View v = seg.map()) {
            SegmentFormatException ex = assertThrows(SegmentFormatException.class,
                    () -> SharedEvent.initialize(v, 0, true));
            assertTrue(ex.getMessage().contains("needs 16 bytes") && ex.getMessage().contains(name), ex.getMessage());
        }
        String named = names.unique("small");
        try (Segment seg = SharedMemory.create(named, 8)) {
            ex(() -> SharedEvent.open(named), "segment too small");
        }
        // an event's header in a segment too small for an event: openOrCreate, like open, says so
        String truncated = names.unique("truncated");
        try (Segment seg = SharedMemory.create(truncated, 12); View v = seg.map()) {
            v.memory().set(ValueLayout.JAVA_INT, 0, EventDescriptor.MAGIC);
            v.memory().set(ValueLayout.JAVA_SHORT, 4, (short) EventDescriptor.VERSION);
            ex(() -> SharedEvent.open(truncated), "segment too small");
            ex(() -> SharedEvent.openOrCreate(truncated, true), "segment too small");
        }
        String other = names.unique("other");
        try (Segment seg = SharedMemory.create(other, 4096); View v = seg.map()) {
            ex(() -> SharedEvent.attach(v, 0), "not initialised");
            ex(() -> SharedEvent.attach(v, 2), "misaligned");
            SharedEvent.initialize(v, 0, true);
            v.memory().set(ValueLayout.JAVA_SHORT, 6, (short) 0x80);
            ex(() -> SharedEvent.attach(v, 0), "unknown flags");
            SharedEvent.initialize(v, 0, true);
            v.memory().set(ValueLayout.JAVA_INT, EventDescriptor.WAITERS_OFFSET, -3);
            ex(() -> SharedEvent.attach(v, 0), "waiter count");
        }
    }

    private static void ex(org.junit.jupiter.api.function.Executable call, String expected) {
        SegmentFormatException e = assertThrows(SegmentFormatException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
