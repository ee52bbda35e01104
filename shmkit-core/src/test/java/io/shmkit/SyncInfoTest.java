package io.shmkit;

import io.shmkit.internal.layout.EventDescriptor;
import io.shmkit.internal.layout.HeaderDescriptor;
import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.internal.layout.SemaphoreDescriptor;
import io.shmkit.internal.layout.SeqLockDescriptor;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SharedMemory.info and list tell what a named synchronization object is and its state. */
class SyncInfoTest {

    private final TestSegments names = new TestSegments();

    @AfterEach
    void cleanup() throws IOException {
        names.removeAll();
    }

    private static SegmentInfo info(String name) throws IOException {
        return SharedMemory.info(name).orElseThrow();
    }

    @Test
    void mutexStateShowsTheOwner() throws Exception {
        String name = names.unique("infomutex");
        try (SharedMutex m = SharedMutex.create(name)) {
            SegmentInfo free = info(name);
            assertEquals(SegmentKind.MUTEX, free.kind());
            assertEquals(false, free.state().get("locked"));
            assertEquals(true, free.state().get("consistent"));
            assertEquals("free", free.stateSummary());
            m.lock();
            SegmentInfo held = info(name);
            assertEquals(true, held.state().get("locked"));
            assertEquals((int) ProcessHandle.current().pid(), held.state().get("ownerPid"));
            assertEquals(true, held.state().get("ownerAlive"));
            assertEquals(Thread.currentThread().threadId(), held.state().get("ownerThread"), "the thread id, without the pid beside it");
            assertTrue(held.stateSummary().startsWith("locked by pid " + ProcessHandle.current().pid() + " (alive)"),
                    held.stateSummary());
            m.unlock();
            assertEquals(1, info(name).holders(), "inspecting does not hold it");
        }
    }

    @Test
    void eventSemaphoreAndSeqLockStates() throws Exception {
        String event = names.unique("infoevent");
        String sem = names.unique("infosem");
        String seq = names.unique("infoseq");
        String data = names.unique("infodata");
        try (SharedEvent e = SharedEvent.create(event, true);
             SharedSemaphore s = SharedSemaphore.create(sem, 2, 5);
             SeqLock q = SeqLock.create(seq, 100);
             Segment d = SharedMemory.create(data, 100)) {
            assertEquals(SegmentKind.EVENT, info(event).kind());
            assertEquals("manual reset, unset", info(event).stateSummary());
            e.set();
            assertEquals(true, info(event).state().get("set"));
            assertEquals(SegmentKind.SEMAPHORE, info(sem).kind());
            assertEquals("2 of 5 permits available", info(sem).stateSummary());
            q.write("hello".getBytes());
            SegmentInfo qi = info(seq);
            assertEquals(SegmentKind.SEQLOCK, qi.kind());
            assertEquals(1L, qi.state().get("version"));
            assertEquals("version 1, 5 of 100 bytes", qi.stateSummary());
            assertEquals(SegmentKind.DATA, info(data).kind());
            assertTrue(info(data).state().isEmpty());
            assertTrue(SharedMemory.list().stream()
                    .anyMatch(i -> i.name().equals(sem) && i.kind() == SegmentKind.SEMAPHORE));
        }
    }

    @Test
    void aMutexWithADeadOwnerOrGarbageSaysSo() throws Exception {
        String name = names.unique("infodead");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        try (SharedMutex m = SharedMutex.create(name); Segment s = SharedMemory.open(name); View v = s.map()) {
            v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET,
                    MutexDescriptor.tag((int) gone.pid(), 1));
            SegmentInfo i = info(name);
            assertEquals(false, i.state().get("ownerAlive"));
            assertTrue(i.stateSummary().contains("dead"), i.stateSummary());
            v.memory().set(ValueLayout.JAVA_LONG, MutexDescriptor.LOCK_WORD_OFFSET, -1L);
            i = info(name);
            assertEquals(SegmentKind.MUTEX, i.kind());
            assertTrue(i.stateSummary().startsWith("invalid:") && i.state().containsKey("problem"), i.stateSummary());
        }
    }

    /**
     * Bytes that open() refuses as garbage are reported as invalid, not described as a state: a
     * seqlock whose length exceeds its capacity was shown as "version 1, 5000 of 100 bytes".
     */
    @Test
    void bytesThatOpenRefusesAreInvalid() throws Exception {
        String event = names.unique("badevent");
        String sem = names.unique("badsem");
        String seq = names.unique("badseq");
        String mutex = names.unique("badmutex");
        try (SharedEvent e = SharedEvent.create(event, true); Segment es = SharedMemory.open(event); View ev = es.map();
             SharedSemaphore s = SharedSemaphore.create(sem, 1, 2); Segment ss = SharedMemory.open(sem); View sv = ss.map();
             SeqLock q = SeqLock.create(seq, 100); Segment qs = SharedMemory.open(seq); View qv = qs.map();
             SharedMutex m = SharedMutex.create(mutex); Segment ms = SharedMemory.open(mutex); View mv = ms.map()) {
            q.write("hello".getBytes());
            ev.memory().set(ValueLayout.JAVA_INT, EventDescriptor.WAITERS_OFFSET, -3);
            sv.memory().set(ValueLayout.JAVA_INT, SemaphoreDescriptor.WAITERS_OFFSET, -1);
            qv.memory().set(ValueLayout.JAVA_INT, SeqLockDescriptor.LENGTH_OFFSET, 5000);
            mv.memory().set(ValueLayout.JAVA_SHORT, HeaderDescriptor.FLAGS_OFFSET, (short) 4);
            for (var c : List.<Object[]>of(
                    new Object[] {event, (Executable) () -> SharedEvent.open(event), "waiter count"},
                    new Object[] {sem, (Executable) () -> SharedSemaphore.open(sem), "waiter count"},
                    new Object[] {seq, (Executable) () -> SeqLock.open(seq), "length"},
                    new Object[] {mutex, (Executable) () -> SharedMutex.open(mutex), "flags"})) {
                String name = (String) c[0];
                String expected = (String) c[2];
                SegmentFormatException refused = assertThrows(SegmentFormatException.class, (Executable) c[1]);
                assertTrue(refused.getMessage().contains(expected), refused.getMessage());
                SegmentInfo i = info(name);
                assertTrue(i.stateSummary().startsWith("invalid:") && i.stateSummary().contains(expected),
                        name + ": " + i.stateSummary());
                assertTrue(String.valueOf(i.state().get("problem")).contains(expected), i.state().toString());
            }
        }
    }
}
