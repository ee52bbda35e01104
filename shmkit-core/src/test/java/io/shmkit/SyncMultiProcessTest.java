package io.shmkit;

import io.shmkit.internal.layout.EventDescriptor;
import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.testing.Checksummed;
import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.SyncPeer;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The synchronization primitives between real processes: child JVMs, each killed at will. */
class SyncMultiProcessTest {

    private final TestSegments names = new TestSegments();
    private final List<ChildProcess> children = new ArrayList<>();

    @AfterEach
    void cleanup() throws IOException {
        for (ChildProcess c : children) {
            c.close();
        }
        names.removeAll();
    }

    private ChildProcess peer(String... args) throws IOException {
        ChildProcess p = ChildProcess.java(SyncPeer.class, args);
        children.add(p);
        return p;
    }

    /** Waits, bounded, until a condition on shared memory holds; polls with short parks. */
    private static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + ChildProcess.TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            LockSupport.parkNanos(200_000);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Mutex

    @Test
    void processesTimesThreadsTimesIncrementsOfAPlainCounterAreExact() throws Exception {
        int processes = 3;
        int threads = 4;
        int increments = 2500;
        String name = names.unique("counter");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex.initialize(v, 0);
            List<ChildProcess> ps = new ArrayList<>();
            for (int i = 0; i < processes; i++) {
                ps.add(peer("count", name, Integer.toString(threads), Integer.toString(increments)));
            }
            for (ChildProcess p : ps) {
                p.awaitPrefix("DONE");
                p.waitForSuccess();
            }
            assertEquals((long) processes * threads * increments, v.memory().get(ValueLayout.JAVA_LONG, 64));
            assertFalse(SharedMutex.attach(v, 0).isLocked());
        }
    }

    /**
     * Java numbers threads per process, so a thread of another process can have the current
     * thread's id. A check "do I hold it?" reads the lock word and then the owner thread; between
     * the two reads the lock can pass from a thread of this process to that other thread. The
     * test sets the lock word to this process's tag by hand, as the first read saw it, while a
     * child's thread with the same id really holds the lock: the current thread must not take
     * the lock for its own (the owner-thread word names the process as well).
     */
    @Test
    void aThreadOfAnotherProcessWithTheSameIdIsNotTheCurrentThread() throws Exception {
        String name = names.unique("sameid");
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            m.lock().close();
            long ourTag;
            try (SharedMutex.Guard g = m.lock()) {
                ourTag = v.memory().get(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET);
            }
            long id = Thread.ofPlatform().unstarted(() -> { }).threadId() + 1000;
            ChildProcess holder = peer("hold-as-thread", name, Long.toString(id));
            String[] locked = holder.awaitPrefix("LOCKED ").split(" ");
            assertEquals(holder.pid(), Long.parseLong(locked[0]));
            assertEquals(id, Long.parseLong(locked[1]));
            long childWord = v.memory().get(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET);
            long ownerThread = v.memory().get(ValueLayout.JAVA_LONG, MutexDescriptor.OWNER_THREAD_OFFSET);
            assertEquals(MutexDescriptor.ownerThreadWord((int) holder.pid(), id), ownerThread);

            boolean[] heldByMe = new boolean[1];
            Throwable[] unlockFailure = new Throwable[1];
            Runnable check = () -> {
                heldByMe[0] = m.isHeldByCurrentThread();
                try {
                    m.unlock();
                } catch (Throwable t) {
                    unlockFailure[0] = t;
                }
            };
            Thread sameId = Thread.ofPlatform().unstarted(check);
            while (sameId.threadId() < id) {
                sameId = Thread.ofPlatform().unstarted(check);
            }
            assertEquals(id, sameId.threadId(), "a thread of this process with the child's thread id");
            v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET, ourTag);
            try {
                sameId.start();
                assertTrue(sameId.join(ChildProcess.TIMEOUT), "the checking thread ended");
            } finally {
                v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET, childWord);
            }
            assertFalse(heldByMe[0], "isHeldByCurrentThread() of a thread with the holder's id in another process");
            assertInstanceOf(IllegalMonitorStateException.class, unlockFailure[0], "its unlock() is refused");
            assertEquals(childWord, v.memory().get(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET));

            holder.send("unlock");
            holder.awaitPrefix("UNLOCKED");
            holder.waitForSuccess();
            assertFalse(m.isLocked());
        }
    }

    /**
     * A locker that may not read the owner's /proc entry (another user's process, /proc mounted
     * with hidepid, where the entry looks missing) must not take a live owner for dead: neither
     * tryLock(), which checks the owner at once, nor a timed wait, which watches it.
     */
    @Test
    void aLiveOwnerThatAnotherUserCannotInspectKeepsTheLock() throws Exception {
        assumeTrue(ChildProcess.mayRunAsNobodyUnderHidepid(), "needs root, unshare and setpriv to run a peer as nobody under hidepid");
        String name = names.unique("hidden");
        try (SharedMutex m = SharedMutex.create(name, SegmentOptions.defaults().permissions(0666));
             SharedMutex.Guard g = m.lock()) {
            ChildProcess other = ChildProcess.javaAsNobodyUnderHidepid(ForeignLocker.class, name);
            children.add(other);
            String verdict;
            try {
                verdict = other.awaitPrefix("TRYLOCK ");
            } catch (AssertionError noVerdict) {
                // Root without the right to mount (a container without CAP_SYS_ADMIN), or a checkout
                // that "nobody" cannot read: the peer never ran, which says nothing about shmkit.
                other.waitFor();
                assumeTrue(false, "could not run a peer as nobody under hidepid here: " + other.stderr());
                return;
            }
            assertEquals("false", verdict, "tryLock() of another user took a live owner's lock");
            assertEquals("false", other.awaitPrefix("TIMED "), "tryLock(200 ms) of another user took a live owner's lock");
            other.waitForSuccess();
            assertTrue(m.isHeldByCurrentThread());
            assertEquals(0, m.abandonCount());
            assertTrue(m.isConsistent());
        }
    }

    /**
     * In a time namespace ({@code unshare --time}: containers, CRIU restores) /proc/PID/stat shows
     * every process's start time shifted by that namespace's boot-time offset, so a process there
     * and one outside read different start times for the same owner. Neither may take the other's
     * live lock for that of a dead owner whose pid was reused: neither tryLock(), which checks the
     * owner at once, nor a timed wait, which watches it.
     */
    @Test
    void aLiveOwnerInAnotherTimeNamespaceKeepsTheLock() throws Exception {
        List<String> unshare = List.of("unshare", "--user", "--map-root-user", "--time", "--boottime", "86400");
        assumeTrue(canRun(unshare), "needs unshare(1) and time namespaces (Linux 5.6) open to this user");
        String name = names.unique("timens");
        try (SharedMutex m = SharedMutex.create(name)) {
            // The owner in the time namespace, we outside.
            List<String> holdCommand = new ArrayList<>(unshare);
            holdCommand.addAll(ChildProcess.javaCommand());
            holdCommand.addAll(List.of(SyncPeer.class.getName(), "hold", name));
            ChildProcess holder = ChildProcess.start(holdCommand);
            children.add(holder);
            holder.awaitPrefix("LOCKED");
            assertFalse(m.tryLock(), "tryLock() took the lock of a live owner in a time namespace");
            assertFalse(m.tryLock(Duration.ofMillis(200)), "tryLock(200 ms) took the lock of a live owner in a time namespace");
            holder.send("unlock");
            holder.awaitPrefix("UNLOCKED");
            holder.waitForSuccess();
            // We the owner, the locker in the time namespace.
            try (SharedMutex.Guard g = m.lock()) {
                List<String> lockerCommand = new ArrayList<>(unshare);
                lockerCommand.addAll(ChildProcess.javaCommand());
                lockerCommand.addAll(List.of(ForeignLocker.class.getName(), name));
                ChildProcess locker = ChildProcess.start(lockerCommand);
                children.add(locker);
                assertEquals("false", locker.awaitPrefix("TRYLOCK "), "tryLock() in a time namespace took a live owner's lock");
                assertEquals("false", locker.awaitPrefix("TIMED "), "tryLock(200 ms) in a time namespace took a live owner's lock");
                locker.waitForSuccess();
                assertTrue(m.isHeldByCurrentThread());
            }
            assertEquals(0, m.abandonCount());
            assertTrue(m.isConsistent());
        }
    }

    private static boolean canRun(List<String> prefix) {
        List<String> command = new ArrayList<>(prefix);
        command.add("true");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Tries to take a named mutex as another user, at once and for 200 ms: prints TRYLOCK and TIMED, true or false. */
    public static final class ForeignLocker {
        public static void main(String[] args) throws Exception {
            try (SharedMutex m = SharedMutex.open(args[0], SegmentOptions.defaults().allowForeignOwner())) {
                boolean now = m.tryLock();
                System.out.println("TRYLOCK " + now);
                if (now) {
                    m.unlock();
                }
                // Longer than a waiter waits before it starts checking on the owner.
                boolean timed = m.tryLock(Duration.ofMillis(200));
                System.out.println("TIMED " + timed);
                if (timed) {
                    m.unlock();
                }
            }
        }
    }

    @Test
    void aHolderKilledWithSigkillIsDetectedAndTheWaiterIsTold() throws Exception {
        String name = names.unique("killed");
        try (SharedMutex m = SharedMutex.create(name)) {
            ChildProcess holder = peer("hold", name);
            holder.awaitPrefix("LOCKED");
            ChildProcess waiter = peer("acquire", name);
            waiter.awaitPrefix("WAITING");
            assertEquals(holder.pid(), m.ownerPid());
            holder.kill();
            long dead = System.nanoTime();
            String acquired = waiter.awaitPrefix("ACQUIRED ");
            long ms = (System.nanoTime() - dead) / 1_000_000;
            assertTrue(acquired.startsWith("ownerDied=true"), acquired);
            waiter.awaitPrefix("DONE");
            waiter.waitForSuccess();
            System.out.println("takeover after SIGKILL: " + ms + " ms (target < 100 ms)");
            assertTrue(ms < 2000, "a waiter took over " + ms + " ms after the death");
            assertTrue(m.isConsistent(), "the waiter repaired it");
            assertEquals(1, m.abandonCount());
            assertEquals(holder.pid(), m.lastDeadOwnerPid());
            assertTrue(m.tryLock(), "and the system goes on");
            m.unlock();
        }
    }

    @Test
    void anOrderlyUnlockWakesAWaiterInAnotherProcess() throws Exception {
        String name = names.unique("handoff");
        try (SharedMutex m = SharedMutex.create(name)) {
            m.lock();
            ChildProcess waiter = peer("acquire", name);
            waiter.awaitPrefix("WAITING");
            m.unlock();
            assertTrue(waiter.awaitPrefix("ACQUIRED ").startsWith("ownerDied=false"));
            waiter.waitForSuccess();
        }
    }

    @Test
    void killedAtRandomPointsRepeatedlyTheLockNeverHangsOrLies() throws Exception {
        killLoop(20, 0x5eed);
    }

    @Test
    @Tag("soak")
    void soakKilledAtRandomPoints() throws Exception {
        killLoop(300, System.nanoTime());
    }

    /**
     * Two hammering processes at a time; each round one of them is killed with SIGKILL at a random
     * point (often while it holds the lock, half-way through an update), a new one starts, and the
     * work must go on. Whoever finds the data half-updated must have been told the owner died.
     */
    private void killLoop(int iterations, long seed) throws Exception {
        String name = names.unique("killloop");
        Random random = new Random(seed);
        List<String> reports = new ArrayList<>();
        int killedInside = 0;
        try (Segment seg = SharedMemory.create(name, 4096); View v = seg.map()) {
            SharedMutex m = SharedMutex.initialize(v, 0);
            List<ChildProcess> live = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                live.add(hammer(name));
            }
            for (int i = 0; i < iterations; i++) {
                ChildProcess victim = live.remove(random.nextInt(live.size()));
                long target = a(v) + 1 + random.nextInt(60);
                awaitCondition(() -> a(v) >= target, "the hammers make progress (round " + i + ", seed " + seed + ")");
                victim.kill();
                if (v.memory().get(ValueLayout.JAVA_LONG, SyncPeer.INSIDE) == victim.pid()) {
                    killedInside++;
                }
                reports.addAll(victim.drain());
                live.add(hammer(name));
                long atKill = a(v);
                awaitCondition(() -> a(v) > atKill + 1, "the work goes on after kill " + i + " (seed " + seed + ")");
            }
            for (ChildProcess c : live) {
                c.kill();
                reports.addAll(c.drain());
            }
            try (SharedMutex.Guard g = m.lock()) {
                if (g.ownerDied()) {
                    reports.add("OWNER_DIED (the test, at the end)");
                    v.memory().set(ValueLayout.JAVA_LONG, SyncPeer.B, a(v));
                    g.markConsistent();
                }
                assertEquals(a(v), v.memory().get(ValueLayout.JAVA_LONG, SyncPeer.B));
            }
            List<String> violations = reports.stream().filter(l -> l.startsWith("VIOLATION")).toList();
            long told = reports.stream().filter(l -> l.startsWith("OWNER_DIED")).count();
            System.out.println("kill loop: " + iterations + " kills, " + killedInside + " inside the critical"
                    + " section, " + m.abandonCount() + " takeovers, " + told + " reports, counter " + a(v));
            assertTrue(violations.isEmpty(), violations.toString());
            assertTrue(killedInside > 0, "some kills hit the critical section (seed " + seed + ")");
            assertTrue(m.abandonCount() >= killedInside, "every death inside led to a takeover");
            assertTrue(m.abandonCount() <= iterations + 2, "takeovers only after deaths");
            assertTrue(told >= 1 && told <= m.abandonCount(), told + " reports, " + m.abandonCount() + " takeovers");
        }
    }

    private ChildProcess hammer(String name) throws IOException {
        ChildProcess p = peer("hammer", name);
        p.awaitPrefix("READY");
        return p;
    }

    private static long a(View v) {
        return v.memory().get(ValueLayout.JAVA_LONG, SyncPeer.A);
    }

    // ---------------------------------------------------------------------------------------------
    // Events

    private static int sleepers(SharedEvent e, View v) {
        return v.memory().get(ValueLayout.JAVA_INT, EventDescriptor.WAITERS_OFFSET);
    }

    @Test
    void aManualResetEventWakesWaitersInOtherProcesses() throws Exception {
        String name = names.unique("manualx");
        try (SharedEvent e = SharedEvent.create(name, true); Segment s = SharedMemory.open(name); View v = s.map()) {
            ChildProcess a = peer("await", name, "60000");
            ChildProcess b = peer("await", name, "60000");
            a.awaitPrefix("WAITING");
            b.awaitPrefix("WAITING");
            awaitCondition(() -> sleepers(e, v) == 2, "both children sleep on the event");
            e.set();
            assertTrue(a.awaitPrefix("").startsWith("SET"));
            assertTrue(b.awaitPrefix("").startsWith("SET"));
            a.waitForSuccess();
            b.waitForSuccess();
        }
    }

    @Test
    void anAutoResetEventReleasesOneProcessPerSet() throws Exception {
        String name = names.unique("autox");
        try (SharedEvent e = SharedEvent.create(name, false); Segment s = SharedMemory.open(name); View v = s.map()) {
            ChildProcess a = peer("await", name, "60000");
            ChildProcess b = peer("await", name, "60000");
            a.awaitPrefix("WAITING");
            b.awaitPrefix("WAITING");
            awaitCondition(() -> sleepers(e, v) == 2, "both children sleep on the event");
            e.set();
            awaitCondition(() -> sleepers(e, v) == 1, "one child released");
            assertFalse(e.isSet(), "the released child reset it");
            e.set();
            awaitCondition(() -> sleepers(e, v) == 0, "the other child released");
            assertFalse(e.isSet());
            assertTrue(a.awaitPrefix("").startsWith("SET"));
            assertTrue(b.awaitPrefix("").startsWith("SET"));
            a.waitForSuccess();
            b.waitForSuccess();
        }
    }

    @Test
    void timeoutsAndInterruptsAreHonouredInOtherProcesses() throws Exception {
        String name = names.unique("timeoutx");
        try (SharedEvent e = SharedEvent.create(name, true)) {
            ChildProcess timed = peer("await", name, "300");
            String result = timed.await(l -> l.startsWith("TIMEOUT") || l.startsWith("SET"), "the timed wait's end");
            assertTrue(result.startsWith("TIMEOUT"), result);
            long ms = Long.parseLong(result.split(" ")[1]);
            assertTrue(ms >= 300 && ms < 5000, "waited " + ms + " ms for a 300 ms timeout");

            ChildProcess interrupted = peer("await-interruptibly", name);
            interrupted.awaitPrefix("WAITING");
            interrupted.send("interrupt");
            assertEquals("INTERRUPTED", interrupted.await(l -> true, "the interrupted wait's end"));
            interrupted.waitForSuccess();
            assertFalse(e.isSet());
        }
    }

    /** CPU time (user + system) of the calling thread, in clock ticks (10 ms on Linux). */
    private static long threadCpuTicks() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[14 - 3]) + Long.parseLong(f[15 - 3]);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anIdleWaiterUsesAlmostNoCpu() throws Exception {
        String name = names.unique("idle");
        try (SharedMutex m = SharedMutex.create(name);
             SharedEvent e = SharedEvent.create(names.unique("idleev"), true)) {
            ChildProcess holder = peer("hold", name);
            holder.awaitPrefix("LOCKED");
            long[] ticks = {-1, -1};
            Thread mutexWaiter = Thread.ofPlatform().start(() -> {
                try {
                    long before = threadCpuTicks();
                    assertFalse(m.tryLock(java.time.Duration.ofSeconds(2)));
                    ticks[0] = threadCpuTicks() - before;
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            Thread eventWaiter = Thread.ofPlatform().start(() -> {
                try {
                    long before = threadCpuTicks();
                    assertFalse(e.await(java.time.Duration.ofSeconds(2)));
                    ticks[1] = threadCpuTicks() - before;
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(mutexWaiter.join(java.time.Duration.ofSeconds(60)));
            assertTrue(eventWaiter.join(java.time.Duration.ofSeconds(60)));
            System.out.println("CPU time of two seconds of waiting, in 10 ms ticks: mutex (owner alive in another"
                    + " process) " + ticks[0] + ", event " + ticks[1]);
            // 2 s of spinning would be 200 ticks; sleeping in slices with liveness checks costs a few
            assertTrue(ticks[0] >= 0 && ticks[0] <= 20, "mutex waiter used " + ticks[0] + " ticks");
            assertTrue(ticks[1] >= 0 && ticks[1] <= 20, "event waiter used " + ticks[1] + " ticks");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Semaphore

    @Test
    void aSemaphoreBoundsHowManyProcessesAreInside() throws Exception {
        String sem = names.unique("sem");
        String data = names.unique("semdata");
        try (SharedSemaphore s = SharedSemaphore.create(sem, 2, 2); Segment seg = SharedMemory.create(data, 4096);
             View v = seg.map()) {
            List<ChildProcess> ps = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ps.add(peer("permits", sem, data, "400"));
            }
            for (ChildProcess p : ps) {
                p.awaitPrefix("DONE");
                p.waitForSuccess();
            }
            long most = v.memory().get(ValueLayout.JAVA_LONG, 8);
            assertTrue(most >= 1 && most <= 2, "at most 2 processes inside at once, saw " + most);
            assertEquals(0, v.memory().get(ValueLayout.JAVA_LONG, 0));
            assertEquals(2, s.availablePermits(), "every permit came back");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // SeqLock

    @Test
    void readersInOtherProcessesNeverSeeATornValueWhileAWriterWritesFlatOut() throws Exception {
        String name = names.unique("seqx");
        try (SeqLock lock = SeqLock.create(name, 2048)) {
            ChildProcess writer = peer("seqwrite", name);
            writer.awaitPrefix("WRITING");
            ChildProcess reader = peer("seqread", name, "1500");
            // and this JVM reads too, meanwhile
            byte[] buf = new byte[lock.capacity()];
            long reads = 0;
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);
            long firstVersion = lock.version();
            while (System.nanoTime() < end) {
                int n = lock.read(buf);
                String problem = Checksummed.problem(buf, n);
                assertEquals(null, problem, "read #" + reads);
                reads++;
            }
            String line = reader.awaitPrefix("READS ");
            writer.send("stop");
            String writes = writer.awaitPrefix("WRITES ");
            writer.waitForSuccess();
            reader.waitForSuccess();
            System.out.println("seqlock: writer " + writes + " writes; child reader " + line + "; this JVM " + reads
                    + " reads over " + (lock.version() - firstVersion) + " versions");
            String[] f = line.split(" ");
            assertEquals("0", f[2], "torn values in the child reader: " + line);
            assertTrue(Long.parseLong(f[0]) > 1000 && Long.parseLong(f[4]) > 10, line);
            assertTrue(lock.version() - firstVersion > 1000, "the writer wrote flat out");
        }
    }
}
