package io.shmkit.internal.layout;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ties every descriptor's offset constants to an independent {@link MemoryLayout} of the same
 * struct, written field by field as docs/sync.md draws it, so that neither can drift alone.
 */
class LayoutDescriptorTest {

    private static final MemoryLayout[] HEADER = {
        JAVA_INT.withName("magic"), JAVA_SHORT.withName("version"), JAVA_SHORT.withName("flags")
    };

    private static StructLayout struct(MemoryLayout... fields) {
        MemoryLayout[] all = new MemoryLayout[HEADER.length + fields.length];
        System.arraycopy(HEADER, 0, all, 0, HEADER.length);
        System.arraycopy(fields, 0, all, HEADER.length, fields.length);
        return MemoryLayout.structLayout(all);
    }

    private static long at(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    static final StructLayout MUTEX = struct(
            JAVA_LONG.withName("lockWord"),
            JAVA_INT.withName("state"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("ownerThread"),
            JAVA_LONG.withName("abandonCount"),
            JAVA_LONG.withName("pidNamespace"),
            JAVA_INT.withName("deadOwnerPid"),
            MemoryLayout.paddingLayout(12));

    static final StructLayout EVENT = struct(
            JAVA_INT.withName("state"),
            JAVA_INT.withName("waiters"));

    static final StructLayout SEMAPHORE = struct(
            JAVA_INT.withName("count"),
            JAVA_INT.withName("waiters"),
            JAVA_INT.withName("max"),
            MemoryLayout.paddingLayout(4));

    static final StructLayout SEQLOCK = struct(
            JAVA_INT.withName("capacity"),
            JAVA_INT.withName("followers"),
            JAVA_LONG.withName("sequence"),
            JAVA_INT.withName("length"),
            MemoryLayout.paddingLayout(36),
            MUTEX.withName("writerMutex"));

    @Test
    void commonHeader() {
        StructLayout header = MemoryLayout.structLayout(HEADER);
        assertEquals(HeaderDescriptor.MAGIC_OFFSET, at(header, "magic"));
        assertEquals(HeaderDescriptor.VERSION_OFFSET, at(header, "version"));
        assertEquals(HeaderDescriptor.FLAGS_OFFSET, at(header, "flags"));
        assertEquals(HeaderDescriptor.SIZE, header.byteSize());
    }

    @Test
    void mutex() {
        assertEquals(MutexDescriptor.LOCK_WORD_OFFSET, at(MUTEX, "lockWord"));
        assertEquals(MutexDescriptor.STATE_OFFSET, at(MUTEX, "state"));
        assertEquals(MutexDescriptor.OWNER_THREAD_OFFSET, at(MUTEX, "ownerThread"));
        assertEquals(MutexDescriptor.ABANDON_COUNT_OFFSET, at(MUTEX, "abandonCount"));
        assertEquals(MutexDescriptor.PID_NAMESPACE_OFFSET, at(MUTEX, "pidNamespace"));
        assertEquals(MutexDescriptor.DEAD_OWNER_PID_OFFSET, at(MUTEX, "deadOwnerPid"));
        assertEquals(MutexDescriptor.SIZE, MUTEX.byteSize());
        assertEquals(0, MutexDescriptor.LOCK_WORD_OFFSET % 8, "the lock word is naturally aligned");
    }

    @Test
    void event() {
        assertEquals(EventDescriptor.STATE_OFFSET, at(EVENT, "state"));
        assertEquals(EventDescriptor.WAITERS_OFFSET, at(EVENT, "waiters"));
        assertEquals(EventDescriptor.SIZE, EVENT.byteSize());
    }

    @Test
    void semaphore() {
        assertEquals(SemaphoreDescriptor.COUNT_OFFSET, at(SEMAPHORE, "count"));
        assertEquals(SemaphoreDescriptor.WAITERS_OFFSET, at(SEMAPHORE, "waiters"));
        assertEquals(SemaphoreDescriptor.MAX_OFFSET, at(SEMAPHORE, "max"));
        assertEquals(SemaphoreDescriptor.SIZE, SEMAPHORE.byteSize());
    }

    @Test
    void seqlock() {
        assertEquals(SeqLockDescriptor.CAPACITY_OFFSET, at(SEQLOCK, "capacity"));
        assertEquals(SeqLockDescriptor.FOLLOWERS_OFFSET, at(SEQLOCK, "followers"));
        assertEquals(SeqLockDescriptor.SEQUENCE_OFFSET, at(SEQLOCK, "sequence"));
        assertEquals(SeqLockDescriptor.LENGTH_OFFSET, at(SEQLOCK, "length"));
        assertEquals(SeqLockDescriptor.WRITER_MUTEX_OFFSET, at(SEQLOCK, "writerMutex"));
        assertEquals(SeqLockDescriptor.PAYLOAD_OFFSET, SEQLOCK.byteSize());
        assertEquals(SeqLockDescriptor.WRITER_MUTEX_OFFSET + MutexDescriptor.LOCK_WORD_OFFSET,
                SEQLOCK.byteOffset(groupElement("writerMutex"), groupElement("lockWord")));
    }

    @Test
    void magicsAreTheirAsciiNamesInMemoryOrder() {
        assertMagic("SMTX", HeaderDescriptor.MUTEX_MAGIC);
        assertMagic("SEVT", HeaderDescriptor.EVENT_MAGIC);
        assertMagic("SSEM", HeaderDescriptor.SEMAPHORE_MAGIC);
        assertMagic("SSEQ", HeaderDescriptor.SEQLOCK_MAGIC);
        assertEquals("mutex", HeaderDescriptor.kindOf(MutexDescriptor.MAGIC));
        assertNull(HeaderDescriptor.kindOf(0x12345678));
        assertTrue(HeaderDescriptor.describeMagic(0xdeadbeef).contains("0xdeadbeef"));
    }

    private static void assertMagic(String text, int magic) {
        byte[] le = {(byte) magic, (byte) (magic >>> 8), (byte) (magic >>> 16), (byte) (magic >>> 24)};
        assertEquals(text, new String(le, StandardCharsets.US_ASCII));
    }

    @Test
    void ownerThreadWordKeepsPidAndThreadIdApart() {
        long word = MutexDescriptor.ownerThreadWord(4_194_304, 7);
        assertEquals(4_194_304, MutexDescriptor.ownerThreadPid(word));
        assertEquals(7, MutexDescriptor.ownerThreadId(word));
        // A long-running JVM starting virtual threads reaches thread ids past 2^32 within hours:
        // two threads of one process must not share a word until ids 2^41 apart.
        assertNotEquals(MutexDescriptor.ownerThreadWord(42, 5), MutexDescriptor.ownerThreadWord(42, 5 + (1L << 32)));
        assertNotEquals(MutexDescriptor.ownerThreadWord(42, 5), MutexDescriptor.ownerThreadWord(43, 5));
        assertEquals((1L << 41) - 1, MutexDescriptor.ownerThreadId(MutexDescriptor.ownerThreadWord(1, -1L)));
    }

    @Test
    void lockWordPacksPidAndStartTime() {
        long tag = MutexDescriptor.tag(4_194_304, 0x1_2345_6789L);
        assertEquals(4_194_304, MutexDescriptor.ownerPid(tag));
        assertEquals(0x2345_6789, MutexDescriptor.ownerStartLow32(tag));
        assertEquals(0, tag & MutexDescriptor.WAITERS, "a tag never carries the waiters bit");
        assertNull(MutexDescriptor.problemWithWord(tag | MutexDescriptor.WAITERS));
        assertTrue(MutexDescriptor.problemWithWord(MutexDescriptor.WAITERS).contains("no owner pid"));
        assertTrue(MutexDescriptor.problemWithWord(0xdeadbeef_deadbeefL).contains("above the largest possible pid"));
    }
}
