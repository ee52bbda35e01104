package io.shmkit;

import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SharedMutex within one process: semantics, threads, virtual threads, forged owners, bad input. */
class SharedMutexTest {

    private static final long WAIT_SECONDS = 30;

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    @Test
    void lockUnlockAndGuard() throws Exception {
        try (SharedMutex m = SharedMutex.create(names.unique("mtx"))) {
            assertTrue(m.wasCreated());
            assertFalse(m.isLocked());
            try (SharedMutex.Guard held = m.lock()) {
                assertFalse(held.ownerDied());
                assertTrue(m.isLocked());
                assertTrue(m.isHeldByCurrentThread());
                assertEquals(ProcessHandle.current().pid(), m.ownerPid());
            }
            assertFalse(m.isLocked());
            assertEquals(0, m.ownerPid());
            assertTrue(m.tryLock());
            m.unlock();
            assertTrue(m.tryLock(Duration.ofMillis(10)));
            m.unlock();
            assertTrue(m.isConsistent());
            assertEquals(0, m.abandonCount());
        }
    }

    @Test
    void notReentrantAndOnlyTheHolderUnlocks() throws Exception {
        try (SharedMutex m = SharedMutex.create(names.unique("owner"))) {
            assertThrows(IllegalMonitorStateException.class, m::unlock, "unlock of a free mutex");
            m.lock();
            assertThrows(IllegalMonitorStateException.class, m::lock, "relock by the holder");
            assertThrows(IllegalMonitorStateException.class, m::tryLock);
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    m.unlock();
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertInstanceOf(IllegalMonitorStateException.class, other.get());
            assertTrue(m.isHeldByCurrentThread(), "a failed unlock by another thread changes nothing");
            other.set(null);
            Thread.ofPlatform().start(() -> {
                try {
                    m.markConsistent();
                } catch (Throwable e) {
                    other.set(e);
                }
            }).join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertInstanceOf(IllegalMonitorStateException.class, other.get(), "only the holder marks it consistent");
            m.unlock();
        }
    }

    @Test
    void tryLockTimesOutWhileAnotherThreadHoldsIt() throws Exception {
        try (SharedMutex m = SharedMutex.create(names.unique("timeout"))) {
            CountDownLatch locked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = Thread.ofPlatform().start(() -> {
                m.lock();
                locked.countDown();
                try {
                    release.await();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                } finally {
                    m.unlock();
                }
            });
            assertTrue(locked.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertFalse(m.tryLock());
            long start = System.nanoTime();
            assertFalse(m.tryLock(Duration.ofMillis(150)));
            long took = System.nanoTime() - start;
            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(150), "waited the whole timeout: " + took);
            assertTrue(took < TimeUnit.SECONDS.toNanos(5), "and not much longer: " + took);
            release.countDown();
            assertTrue(m.tryLock(Duration.ofSeconds(WAIT_SECONDS)), "acquired once released");
            m.unlock();
            holder.join();
        }
    }

    @Test
    void waitsAreInterruptibleOnPlatformAndVirtualThreads() throws Exception {
        try (SharedMutex m = SharedMutex.create(names.unique("interrupt"))) {
            m.lock();
            for (Thread.Builder builder : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
                AtomicReference<Throwable> outcome = new AtomicReference<>();
                CountDownLatch started = new CountDownLatch(1);
                Thread waiter = builder.start(() -> {
                    started.countDown();
                    try {
                        m.lockInterruptibly();
                        outcome.set(new AssertionError("acquired a held lock"));
                    } catch (Throwable e) {
                        outcome.set(e);
                    }
                });
                assertTrue(started.await(WAIT_SECONDS, TimeUnit.SECONDS));
                waiter.interrupt();
                waiter.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                assertFalse(waiter.isAlive(), "the interrupted waiter returned");
                assertInstanceOf(InterruptedException.class, outcome.get());
            }
            // tryLock with a timeout is interruptible too
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> m.tryLock(Duration.ofSeconds(1)));
            m.unlock();
        }
    }

    @Test
    void uninterruptibleLockKeepsTheInterruptStatus() throws Exception {
        try (SharedMutex m = SharedMutex.create(names.unique("uninterruptible"))) {
            for (Thread.Builder builder : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
                m.lock();
                AtomicReference<Boolean> interruptedAfter = new AtomicReference<>();
                CountDownLatch waiting = new CountDownLatch(1);
                Thread waiter = builder.start(() -> {
                    waiting.countDown();
                    m.lock();
                    interruptedAfter.set(Thread.currentThread().isInterrupted());
                    m.unlock();
                });
                assertTrue(waiting.await(WAIT_SECONDS, TimeUnit.SECONDS));
                waiter.interrupt();
                // the waiter must still be waiting: interrupts do not end lock()
                assertFalse(waiter.join(Duration.ofMillis(100)));
                m.unlock();
                assertTrue(waiter.join(Duration.ofSeconds(WAIT_SECONDS)));
                assertEquals(Boolean.TRUE, interruptedAfter.get());
            }
        }
    }

    @Test
    void threadsIncrementAPlainCounterExactly() throws Exception {
        String name = names.unique("threads");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            int threads = 4;
            int increments = 20_000;
            runAll(Thread.ofPlatform().factory(), threads, () -> {
                for (int i = 0; i < increments; i++) {
                    try (SharedMutex.Guard g = m.lock()) {
                        long c = v.memory().get(ValueLayout.JAVA_LONG, 64);
                        v.memory().set(ValueLayout.JAVA_LONG, 64, c + 1);
                    }
                }
            });
            assertEquals((long) threads * increments, v.memory().get(ValueLayout.JAVA_LONG, 64));
        }
    }

    @Test
    void virtualThreadsHoldItAcrossBlockingCallsAndUnlockOnAnotherCarrier() throws Exception {
        String name = names.unique("virtual");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            int threads = 200;
            int increments = 20;
            runAll(Thread.ofVirtual().factory(), threads, () -> {
                for (int i = 0; i < increments; i++) {
                    try (SharedMutex.Guard g = m.lock()) {
                        long c = v.memory().get(ValueLayout.JAVA_LONG, 64);
                        if (i == 0) {
                            // a blocking call while holding: the virtual thread unmounts and may come
                            // back on another carrier; ownership is by Thread, so unlock still works
                            Thread.sleep(1);
                        }
                        v.memory().set(ValueLayout.JAVA_LONG, 64, c + 1);
                    }
                }
            });
            assertEquals((long) threads * increments, v.memory().get(ValueLayout.JAVA_LONG, 64));
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    private static void runAll(java.util.concurrent.ThreadFactory factory, int n, Body body) throws Exception {
        try (ExecutorService pool = Executors.newThreadPerTaskExecutor(factory)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    body.run();
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(WAIT_SECONDS * 4, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void asLockWorksForJavaUtilConcurrentCode() throws Exception {
        try (SharedMutex m = SharedMutex.create(names.unique("aslock"))) {
            java.util.concurrent.locks.Lock lock = m.asLock();
            lock.lock();
            assertTrue(m.isHeldByCurrentThread());
            lock.unlock();
            assertTrue(lock.tryLock(1, TimeUnit.SECONDS));
            lock.unlock();
            assertThrows(UnsupportedOperationException.class, lock::newCondition);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Dead and impostor owners, forged in the lock word

    private static long word(View v) {
        return v.memory().get(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET);
    }

    private static void setWord(View v, long word) {
        v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET, word);
    }

    private static long startTimeOf(long pid) throws IOException {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
    }

    @Test
    void anOwnerWhosePidWasReusedIsTakenForDead() throws Exception {
        String name = names.unique("reuse");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            // The owner "was" a process with this JVM's pid but another start time: as if it died and
            // the kernel gave its pid to us. kill(pid, 0) says alive; the start time says otherwise.
            int pid = (int) ProcessHandle.current().pid();
            long impostor = MutexDescriptor.tag(pid, startTimeOf(pid) + 12345);
            setWord(v, impostor);
            long start = System.nanoTime();
            try (SharedMutex.Guard g = m.lock()) {
                long took = System.nanoTime() - start;
                assertTrue(g.ownerDied(), "told that the owner died");
                assertFalse(m.isConsistent());
                assertEquals(1, m.abandonCount());
                assertTrue(took < TimeUnit.SECONDS.toNanos(2), "taken over quickly: " + took / 1_000_000 + " ms");
                g.markConsistent();
            }
            assertTrue(m.isConsistent());
        }
    }

    @Test
    void aLiveOwnerInAnotherProcessIsRespected() throws Exception {
        String name = names.unique("live");
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            setWord(v, MutexDescriptor.tag((int) sleeper.pid(), startTimeOf(sleeper.pid())));
            assertFalse(m.tryLock());
            assertFalse(m.tryLock(Duration.ofMillis(100)), "a live owner keeps it");
            assertTrue(m.isConsistent());
            // once it dies (SIGKILL), the next attempt takes over
            sleeper.destroyForcibly();
            assertTrue(sleeper.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(m.tryLock(Duration.ofSeconds(WAIT_SECONDS)));
            assertFalse(m.isConsistent());
            m.markConsistent();
            m.unlock();
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void tryLockTakesOverFromAnOwnerThatNoLongerExists() throws Exception {
        String name = names.unique("gone");
        Process p = new ProcessBuilder("true").start();
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            setWord(v, MutexDescriptor.tag((int) p.pid(), 42) | MutexDescriptor.WAITERS);
            assertTrue(m.tryLock(), "no process has that pid any more");
            assertFalse(m.isConsistent());
            assertEquals(p.pid(), m.lastDeadOwnerPid());
            assertEquals(MutexDescriptor.tag((int) ProcessHandle.current().pid(), 0) & MutexDescriptor.PID_MASK,
                    word(v) & MutexDescriptor.PID_MASK);
            m.unlock();
            // not repaired: the next owner is told again
            try (SharedMutex.Guard g = m.lock()) {
                assertTrue(g.ownerDied());
            }
        }
    }

    @Test
    void aMutexFromAnotherPidNamespaceIsRefused() throws Exception {
        String name = names.unique("pidns");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex.initialize(v, 0);
            long own = v.memory().get(ValueLayout.JAVA_LONG, MutexDescriptor.PID_NAMESPACE_OFFSET);
            assertTrue(own != 0, "the creator records its pid namespace");
            v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.PID_NAMESPACE_OFFSET, own + 1);
            ShmException e = assertThrows(ShmException.class, () -> SharedMutex.attach(v, 0));
            assertTrue(e.getMessage().contains("pid namespace"), e.getMessage());
            v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.PID_NAMESPACE_OFFSET, 0L);
            SharedMutex.attach(v, 0); // 0: unknown (e.g. made by a C program), accepted
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Bad input

    @Test
    void garbageInTheLockWordIsAClearError() throws Exception {
        String name = names.unique("garbage");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 128);
            v.memory().set(ValueLayout.JAVA_LONG, 128 + MutexDescriptor.LOCK_WORD_OFFSET, 0xdeadbeef_deadbeefL);
            SegmentFormatException e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 128));
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains("offset 128")
                    && e.getMessage().contains("lock word"), e.getMessage());
            assertEquals(128, e.offset());
            // found while locking, by an instance attached before the corruption
            IllegalStateException ise = assertThrows(IllegalStateException.class, m::lock);
            assertInstanceOf(SegmentFormatException.class, ise.getCause());
            ise = assertThrows(IllegalStateException.class, m::tryLock);
            assertInstanceOf(SegmentFormatException.class, ise.getCause());
            ise = assertThrows(IllegalStateException.class, () -> m.tryLock(Duration.ofSeconds(1)));
            assertInstanceOf(SegmentFormatException.class, ise.getCause());

            setWord(v, 0);
            v.memory().set(ValueLayout.JAVA_LONG, 128 + MutexDescriptor.LOCK_WORD_OFFSET, MutexDescriptor.WAITERS);
            assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 128));
            v.memory().set(ValueLayout.JAVA_LONG, 128 + MutexDescriptor.LOCK_WORD_OFFSET, 0L);
            v.memory().set(ValueLayout.JAVA_INT, 128 + MutexDescriptor.STATE_OFFSET, 7);
            e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 128));
            assertTrue(e.getMessage().contains("state"), e.getMessage());
            assertThrows(IllegalStateException.class, m::isConsistent);
        }
    }

    @Test
    void wrongMagicVersionSizeAlignmentAndAccessAreClearErrors() throws Exception {
        String name = names.unique("bad");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SegmentFormatException e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 0));
            assertTrue(e.getMessage().contains("not initialised"), e.getMessage());

            v.putString(0, "hello, world");
            e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 0));
            assertTrue(e.getMessage().contains("not a mutex") && e.getMessage().contains("\"hell\""), e.getMessage());

            SharedEvent.initialize(v, 0, true);
            e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 0));
            assertTrue(e.getMessage().contains("a shmkit event"), e.getMessage());

            SharedMutex.initialize(v, 0);
            v.memory().set(ValueLayout.JAVA_SHORT, 4, (short) 99);
            e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 0));
            assertTrue(e.getMessage().contains("version 99"), e.getMessage());

            e = assertThrows(SegmentFormatException.class, () -> SharedMutex.initialize(v, 4090));
            assertTrue(e.getMessage().contains("needs 64 bytes"), e.getMessage());
            e = assertThrows(SegmentFormatException.class, () -> SharedMutex.attach(v, 12));
            assertTrue(e.getMessage().contains("misaligned"), e.getMessage());
            try (View ro = seg.map(Access.READ_ONLY)) {
                assertThrows(IllegalArgumentException.class, () -> SharedMutex.attach(ro, 0));
            }
        }
        // a segment too small for a mutex
        String tiny = names.unique("tiny");
        try (Segment seg = SharedMemory.create(tiny, 16); View v = seg.map()) {
            assertThrows(SegmentFormatException.class, () -> SharedMutex.initialize(v, 0));
        }
    }

    @Test
    void namedMutexesOpenTheSameLockAndRefuseOtherKinds() throws Exception {
        String name = names.unique("named");
        try (SharedMutex a = SharedMutex.openOrCreate(name); SharedMutex b = SharedMutex.openOrCreate(name)) {
            assertTrue(a.wasCreated());
            assertFalse(b.wasCreated());
            a.lock();
            assertTrue(b.isLocked());
            assertTrue(b.isHeldByCurrentThread(), "the same lock: held by this thread through either handle");
            a.unlock();
        }
        String event = names.unique("anevent");
        try (SharedEvent e = SharedEvent.create(event, true)) {
            // an event (16 bytes) is named as one, as docs/sync.md shows, not as a segment too small for a mutex
            SegmentFormatException ex = assertThrows(SegmentFormatException.class, () -> SharedMutex.open(event));
            assertTrue(ex.getMessage().contains("not a mutex") && ex.getMessage().contains("a shmkit event"), ex.getMessage());
            ex = assertThrows(SegmentFormatException.class, () -> SharedMutex.openOrCreate(event));
            assertTrue(ex.getMessage().contains("not a mutex") && ex.getMessage().contains("a shmkit event"), ex.getMessage());
        }
        String mutex = names.unique("amutex");
        try (SharedMutex m = SharedMutex.create(mutex)) {
            SegmentFormatException ex = assertThrows(SegmentFormatException.class, () -> SharedEvent.open(mutex));
            assertTrue(ex.getMessage().contains("not an event: found magic") && ex.getMessage().contains("where an event has"),
                    ex.getMessage());
        }
        // a segment that nobody initialised: the opener waits briefly, then says so
        String blank = names.unique("blank");
        try (Segment s = SharedMemory.create(blank, 64)) {
            long start = System.nanoTime();
            SegmentFormatException ex = assertThrows(SegmentFormatException.class, () -> SharedMutex.open(blank));
            assertTrue(ex.getMessage().contains("uninitialised"), ex.getMessage());
            // a data segment may simply start with zeros: its removal is advised only for a dead creator's mutex
            assertTrue(ex.getMessage().contains("either a plain data segment"), ex.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
        }
        // a named segment with a mutex's header but too small for one: openOrCreate, like open, says so
        String truncated = names.unique("truncated");
        try (Segment s = SharedMemory.create(truncated, 16); View v = s.map()) {
            v.memory().set(ValueLayout.JAVA_INT, 0, MutexDescriptor.MAGIC);
            v.memory().set(ValueLayout.JAVA_SHORT, 4, (short) MutexDescriptor.VERSION);
            for (var call : List.<org.junit.jupiter.api.function.Executable>of(
                    () -> SharedMutex.open(truncated), () -> SharedMutex.openOrCreate(truncated))) {
                SegmentFormatException ex = assertThrows(SegmentFormatException.class, call);
                assertTrue(ex.getMessage().contains(truncated) && ex.getMessage().contains("too small"), ex.getMessage());
            }
        }
    }
}
