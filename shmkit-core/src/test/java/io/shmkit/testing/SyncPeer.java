package io.shmkit.testing;

import io.shmkit.Access;
import io.shmkit.Segment;
import io.shmkit.SegmentOptions;
import io.shmkit.SeqLock;
import io.shmkit.SharedEvent;
import io.shmkit.SharedMemory;
import io.shmkit.SharedMutex;
import io.shmkit.View;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A second process for the synchronization tests. The first argument picks the job; the process
 * reports on stdout, one line per fact, and takes orders (where it has any) on stdin.
 *
 * <pre>
 * count SEGMENT THREADS INCREMENTS  mutex at offset 0 of SEGMENT, a plain long counter at 64:
 *                                   THREADS threads increment it INCREMENTS times each under the
 *                                   mutex; prints DONE
 * hammer SEGMENT                    forever: lock the mutex at 0; check that A (at 64) == B (at 72)
 *                                   unless told the owner died (then repair); A++, dawdle, B++;
 *                                   prints OWNER_DIED, VIOLATION, PROGRESS n
 * hold MUTEX                        lock the named mutex, print LOCKED, unlock at an "unlock" line
 * hold-as-thread SEGMENT ID         lock the mutex at offset 0 of SEGMENT in a thread whose
 *                                   Thread.threadId() is ID; print "LOCKED pid id"; unlock at an
 *                                   "unlock" line, print UNLOCKED
 * acquire MUTEX                     print WAITING, lock, print "ACQUIRED ownerDied=B", repair, unlock
 * await EVENT TIMEOUT_MS            print WAITING, wait on the named event: SET or TIMEOUT, with ms
 * await-interruptibly EVENT         a thread waits; an "interrupt" line interrupts it: INTERRUPTED
 * permits SEMAPHORE SEGMENT N       N times: acquire the named semaphore, count itself in at offset 0
 *                                   of SEGMENT (atomically), record the most inside at 8, dawdle,
 *                                   count itself out, release; prints DONE
 * seqwrite SEQLOCK                  write checksummed values as fast as possible until a line comes
 *                                   on stdin; prints WRITES n
 * seqread SEQLOCK MILLIS            read for MILLIS, check each value; prints READS n TORN k VERSIONS v
 * </pre>
 */
public final class SyncPeer {
    private SyncPeer() {
    }

    public static void main(String[] args) throws Exception {
        // An exception in a worker thread would otherwise end just that thread, and the process would
        // still exit 0: the test would see only a short count and not why. Fail the whole process instead.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            System.err.println("uncaught in " + thread + ":");
            e.printStackTrace();
            System.err.flush();
            System.out.flush();
            Runtime.getRuntime().halt(70);
        });
        long pid = ProcessHandle.current().pid();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        switch (args[0]) {
            case "count" -> count(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "hammer" -> hammer(args[1], pid);
            case "hold-as-thread" -> holdAsThread(args[1], Long.parseLong(args[2]), pid, in);
            case "hold" -> {
                try (SharedMutex m = SharedMutex.open(args[1])) {
                    m.lock();
                    System.out.println("LOCKED " + pid);
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.equals("unlock")) {
                            m.unlock();
                            System.out.println("UNLOCKED");
                            return;
                        }
                    }
                }
            }
            case "acquire" -> {
                try (SharedMutex m = SharedMutex.open(args[1])) {
                    System.out.println("WAITING " + pid);
                    try (SharedMutex.Guard g = m.lock()) {
                        System.out.println("ACQUIRED ownerDied=" + g.ownerDied() + " abandonCount=" + m.abandonCount());
                        if (g.ownerDied()) {
                            g.markConsistent();
                        }
                    }
                    System.out.println("DONE");
                }
            }
            case "await" -> {
                try (SharedEvent e = SharedEvent.open(args[1])) {
                    System.out.println("WAITING " + pid);
                    long start = System.nanoTime();
                    boolean set = e.await(Duration.ofMillis(Long.parseLong(args[2])));
                    System.out.println((set ? "SET " : "TIMEOUT ") + (System.nanoTime() - start) / 1_000_000);
                }
            }
            case "await-interruptibly" -> {
                try (SharedEvent e = SharedEvent.open(args[1])) {
                    Thread waiter = Thread.ofPlatform().start(() -> {
                        try {
                            e.await();
                            System.out.println("SET");
                        } catch (InterruptedException ie) {
                            System.out.println("INTERRUPTED");
                        }
                    });
                    System.out.println("WAITING " + pid);
                    if ("interrupt".equals(in.readLine())) {
                        waiter.interrupt();
                    }
                    waiter.join();
                }
            }
            case "permits" -> permits(args[1], args[2], Integer.parseInt(args[3]));
            case "seqwrite" -> seqwrite(args[1], in);
            case "seqread" -> seqread(args[1], Long.parseLong(args[2]));
            default -> throw new IllegalArgumentException("unknown job " + args[0]);
        }
    }

    private static void count(String segment, int threads, int increments) throws Exception {
        try (Segment seg = SharedMemory.open(segment); View v = seg.map()) {
            SharedMutex m = SharedMutex.attach(v, 0);
            MemorySegment mem = v.memory();
            System.out.println("READY");
            List<Thread> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                all.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < increments; i++) {
                        try (SharedMutex.Guard g = m.lock()) {
                            mem.set(ValueLayout.JAVA_LONG, 64, mem.get(ValueLayout.JAVA_LONG, 64) + 1);
                        }
                    }
                }));
            }
            for (Thread t : all) {
                t.join();
            }
            System.out.println("DONE");
        }
    }

    private static void holdAsThread(String segment, long id, long pid, BufferedReader in) throws Exception {
        try (Segment seg = SharedMemory.open(segment); View v = seg.map()) {
            SharedMutex m = SharedMutex.attach(v, 0);
            Runnable job = () -> {
                try (SharedMutex.Guard g = m.lock()) {
                    System.out.println("LOCKED " + pid + " " + Thread.currentThread().threadId());
                    String line;
                    while ((line = in.readLine()) != null && !line.equals("unlock")) {
                        // orders other than unlock: none yet
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                System.out.println("UNLOCKED");
            };
            // Thread ids are handed out in order of creation: create (without starting) until the next one is ID.
            Thread holder = Thread.ofPlatform().unstarted(job);
            while (holder.threadId() < id) {
                holder = Thread.ofPlatform().unstarted(job);
            }
            if (holder.threadId() != id) {
                throw new IllegalStateException("thread id " + id + " is already taken in this process");
            }
            holder.start();
            holder.join();
        }
    }

    /** Offsets of the hammer's data in its segment. */
    public static final long A = 64;
    public static final long B = 72;
    public static final long INSIDE = 80;

    private static void hammer(String segment, long pid) throws Exception {
        Segment seg = SharedMemory.open(segment);
        View v = seg.map();
        SharedMutex m = SharedMutex.attach(v, 0);
        MemorySegment mem = v.memory();
        Random random = new Random();
        System.out.println("READY " + pid);
        for (long n = 1; ; n++) {
            try (SharedMutex.Guard g = m.lock()) {
                long a = mem.get(ValueLayout.JAVA_LONG, A);
                long b = mem.get(ValueLayout.JAVA_LONG, B);
                if (g.ownerDied()) {
                    System.out.println("OWNER_DIED " + m.abandonCount() + (a != b ? " torn" : ""));
                    mem.set(ValueLayout.JAVA_LONG, B, a);
                    b = a;
                    g.markConsistent();
                } else if (a != b) {
                    System.out.println("VIOLATION a=" + a + " b=" + b + " without being told the owner died");
                }
                mem.set(ValueLayout.JAVA_LONG, INSIDE, pid);
                mem.set(ValueLayout.JAVA_LONG, A, a + 1);
                long until = System.nanoTime() + random.nextInt(100_000);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                long inside = mem.get(ValueLayout.JAVA_LONG, INSIDE);
                if (inside != pid) {
                    System.out.println("VIOLATION process " + inside + " inside with " + pid);
                }
                mem.set(ValueLayout.JAVA_LONG, B, a + 1);
                mem.set(ValueLayout.JAVA_LONG, INSIDE, 0);
            }
            if (n % 100 == 0) {
                System.out.println("PROGRESS " + n);
            }
        }
    }

    private static final java.lang.invoke.VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private static void permits(String semaphore, String segment, int n) throws Exception {
        try (io.shmkit.SharedSemaphore s = io.shmkit.SharedSemaphore.open(semaphore);
             Segment seg = SharedMemory.open(segment); View v = seg.map()) {
            MemorySegment mem = v.memory();
            System.out.println("READY");
            for (int i = 0; i < n; i++) {
                s.acquire();
                long inside = (long) LONG.getAndAdd(mem, 0L, 1L) + 1;
                long most;
                while ((most = (long) LONG.getVolatile(mem, 8L)) < inside
                        && !LONG.compareAndSet(mem, 8L, most, inside)) {
                    Thread.onSpinWait();
                }
                long until = System.nanoTime() + 50_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                LONG.getAndAdd(mem, 0L, -1L);
                s.release();
            }
            System.out.println("DONE");
        }
    }

    private static void seqwrite(String name, BufferedReader in) throws Exception {
        try (SeqLock lock = SeqLock.open(name)) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    in.readLine();
                } catch (Exception ignored) {
                    // stdin gone: stop too
                }
                stop.set(true);
            });
            Random random = new Random();
            byte[][] values = new byte[64][];
            for (int i = 0; i < values.length; i++) {
                values[i] = Checksummed.make(random, lock.capacity());
            }
            System.out.println("WRITING");
            long n = 0;
            while (!stop.get()) {
                lock.write(values[(int) (n++ & 63)]);
            }
            System.out.println("WRITES " + n);
        }
    }

    private static void seqread(String name, long millis) throws Exception {
        try (SeqLock lock = SeqLock.open(name, SegmentOptions.defaults().access(Access.READ_ONLY))) {
            byte[] buf = new byte[lock.capacity()];
            long reads = 0;
            long torn = 0;
            long versions = 0;
            long last = -1;
            long end = System.nanoTime() + millis * 1_000_000;
            String firstProblem = null;
            while (System.nanoTime() < end) {
                int n = lock.read(buf);
                String problem = Checksummed.problem(buf, n);
                if (problem != null) {
                    torn++;
                    if (firstProblem == null) {
                        firstProblem = problem;
                    }
                }
                long version = lock.version();
                if (version != last) {
                    versions++;
                    last = version;
                }
                reads++;
            }
            System.out.println("READS " + reads + " TORN " + torn + " VERSIONS " + versions
                    + (firstProblem != null ? " FIRST " + firstProblem : ""));
        }
    }
}
