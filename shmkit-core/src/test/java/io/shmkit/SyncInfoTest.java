package io.shmkit;

import io.shmkit.internal.layout.MutexDescriptor;
import io.shmkit.testing.TestSegments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
