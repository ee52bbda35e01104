package io.shmkit.internal.os;

import io.shmkit.testing.ChildProcess;
import io.shmkit.testing.NativePeers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every {@link OsBackend} must do, whatever the platform: the interface's Javadoc, as tests
 * against the real OS (no mocks). Each test states, in its name and its comments, a promise any
 * backend keeps; facts of one platform (where objects live, permission bits, {@code /proc}) belong
 * in that platform's subclass, never here.
 *
 * <h2>Adding a backend</h2>
 * Write {@code class MacBackendContractTest extends OsBackendContract} in this package, enabled on
 * its OS only ({@code @EnabledOnOs}), and give it:
 * <ul>
 *   <li>{@link #backend()}: the backend under test. It must be the platform's own
 *   ({@link OsBackend#current()} there): the child processes these tests start
 *   ({@link BackendPeer}) use {@code OsBackend.current()}, and objects and processes are shared
 *   between the two.</li>
 *   <li>{@link #eagain()}, {@link #etimedout()}, {@link #eintr()}: the errno numbers that
 *   {@link OsBackend#waitOnAddress} returns negated on that platform.</li>
 *   <li>Tests of the platform's own facts, as {@link LinuxBackendContractTest} has for Linux.</li>
 * </ul>
 * Every test here must pass unchanged. A test that cannot apply to a platform at all (there are no
 * zombies on Windows) is overridden in the subclass <em>without</em> {@code @Test}, with a comment
 * saying why: JUnit does not run an overriding method that lacks the annotation.
 *
 * <p>Conventions: every object has a unique name ({@link #unique}) and is removed after the test,
 * as every handle is closed and every mapping unmapped, also when the test fails; every wait is
 * bounded by {@link ChildProcess#TIMEOUT}; nothing sleeps to synchronize (a bounded poll, where
 * nothing can tell this process the moment a thing happens, parks between looks).
 */
abstract class OsBackendContract {

    /** Mapping modes of {@link OsBackend#map}. */
    static final int READ_ONLY = 0;
    static final int READ_WRITE = 1;
    static final int COPY_ON_WRITE = 2;

    private static final long WAIT_NANOS = ChildProcess.TIMEOUT.toNanos();
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final AtomicInteger COUNTER = new AtomicInteger();

    /** The backend under test; see the class comment. */
    protected abstract OsBackend backend();

    /** The platform's {@code EAGAIN}: {@link OsBackend#waitOnAddress} returns it negated when the word differed. */
    protected abstract int eagain();

    /** The platform's {@code ETIMEDOUT}: {@link OsBackend#waitOnAddress} returns it negated when the time ran out. */
    protected abstract int etimedout();

    /** The platform's {@code EINTR}: {@link OsBackend#waitOnAddress} may return it negated (a signal). */
    protected abstract int eintr();

    protected OsBackend os;
    private final List<String> names = new ArrayList<>();
    private final List<NativeHandle> handles = new ArrayList<>();
    private Arena arena;

    @TempDir
    Path dir;

    @BeforeEach
    void openBackend() {
        os = backend();
        // Shared: waiter threads touch the mappings too.
        arena = Arena.ofShared();
    }

    @AfterEach
    void cleanup() throws IOException {
        arena.close();
        for (NativeHandle h : handles) {
            os.close(h);
        }
        handles.clear();
        for (String n : names) {
            os.remove(n);
        }
        names.clear();
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    /** A name no other test (in this or another JVM) uses, removed after the test. */
    protected final String unique(String label) {
        return remember("shmkit-test-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet()
                + "-contract-" + label);
    }

    /** Removes {@code name} after the test. */
    protected final String remember(String name) {
        names.add(name);
        return name;
    }

    /** A handle closed after the test unless the test closes it with {@link #close}. */
    protected final NativeHandle held(NativeHandle h) {
        handles.add(h);
        return h;
    }

    protected final NativeHandle create(String name, long size, LifetimeTag lifetime) throws IOException {
        return held(os.createShm(name, size, 0600, lifetime));
    }

    protected final NativeHandle open(String name, boolean writable) throws IOException {
        return held(os.openShm(name, writable, false));
    }

    /** Closes a handle now (a handle is closed once: the cleanup then leaves it alone). */
    protected final void close(NativeHandle h) {
        handles.remove(h);
        os.close(h);
    }

    /** Maps into this test's arena, unmapped after the test. */
    protected final MemorySegment map(NativeHandle h, long offset, long length, int mode) throws IOException {
        return os.map(h, offset, length, mode, arena);
    }

    private MemorySegment zeros(long size) {
        return arena.allocate(size); // zero-filled
    }

    private static void put(MemorySegment m, long offset, String ascii) {
        byte[] b = ascii.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, m, JAVA_BYTE, offset, b.length);
    }

    private static ObjectInfo listed(List<ObjectInfo> list, String name) {
        return list.stream().filter(i -> i.name().equals(name)).findFirst().orElse(null);
    }

    /** A child process running {@link BackendPeer}, once it has said who it is. */
    protected record Peer(ChildProcess process, int pid, long startTime, long pidNamespace) implements AutoCloseable {
        void ok(String command) throws IOException {
            process.send(command);
            String reply = process.await(l -> l.startsWith("OK") || l.startsWith("ERR"), "a reply to " + command);
            assertTrue(reply.startsWith("OK"), command + " -> " + reply);
        }

        @Override
        public void close() {
            process.close();
        }
    }

    protected static Peer peer() throws IOException {
        ChildProcess p = ChildProcess.java(BackendPeer.class);
        try {
            String[] w = p.awaitPrefix("READY ").split(" ");
            return new Peer(p, Integer.parseInt(w[0]), Long.parseLong(w[1]), Long.parseLong(w[2]));
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Limits

    @Test
    void limitsAndPathsAreSane() {
        assertFalse(os.platform().isBlank());
        assertTrue(os.maxNameBytes() > 0, "maxNameBytes " + os.maxNameBytes());
        long page = os.pageSize();
        assertTrue(page >= 1024 && Long.bitCount(page) == 1, "a page is a power of two bytes: " + page);
        // objectPath is for messages: it names the object, the same each time, and differs by name.
        String path = os.objectPath("demo");
        assertTrue(path.contains("demo"), path);
        assertEquals(path, os.objectPath("demo"));
        assertNotEquals(path, os.objectPath("other"));
    }

    @Test
    void aNameOfTheLongestLengthAllowedWorks() throws IOException {
        String base = unique("longest-");
        int pad = os.maxNameBytes() - base.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(pad >= 0, "maxNameBytes " + os.maxNameBytes() + " is shorter than a test name");
        String name = remember(base + "x".repeat(pad));
        NativeHandle h = create(name, 4096, LifetimeTag.LAST_CLOSE);
        assertEquals(name, h.name());
        assertNotNull(listed(os.list(), name), "listed under its full name");
        close(open(name, false));
        close(h);
        assertNull(os.info(name));
    }

    // ---------------------------------------------------------------------------------------------
    // Create and open

    @Test
    void createIsExclusiveAndNamesTheObjectWhenItExists() throws IOException {
        String name = unique("exclusive");
        NativeHandle first = create(name, 4096, LifetimeTag.LAST_CLOSE);
        map(first, 0, 4096, READ_WRITE).set(JAVA_INT, 0, 0x12345678);
        for (LifetimeTag lifetime : LifetimeTag.values()) {
            FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                    () -> held(os.createShm(name, 8192, 0600, lifetime)), lifetime.name());
            assertEquals(name, e.getFile(), "the exception names the object");
        }
        // The failed creates touched nothing: same size, same bytes, still there after they failed.
        assertEquals(4096, os.currentSize(first));
        assertEquals(4096, os.info(name).size());
        NativeHandle other = open(name, false);
        assertEquals(0x12345678, map(other, 0, 4096, READ_ONLY).get(JAVA_INT, 0));
    }

    @Test
    void aCreatedObjectIsZeroFilledAndOfTheSizeAsked() throws IOException {
        // Not a multiple of the page: the size is what was asked, not rounded.
        long size = 3 * os.pageSize() + 123;
        for (LifetimeTag lifetime : List.of(LifetimeTag.LAST_CLOSE, LifetimeTag.PERSISTENT)) {
            String name = unique("zeroed");
            NativeHandle h = create(name, size, lifetime);
            assertTrue(h.created());
            assertTrue(h.writable());
            assertFalse(h.fileBacked());
            assertEquals(name, h.name());
            assertEquals(os.objectPath(name), h.path());
            assertEquals(lifetime, h.lifetime());
            assertEquals(size, h.size());
            assertEquals(size, os.currentSize(h));
            assertEquals(size, os.info(name).size());
            assertEquals(-1, map(h, 0, size, READ_ONLY).mismatch(zeros(size)), "every byte is zero");
        }
    }

    @Test
    void anObjectIsNeverSeenHalfMade() throws Exception {
        // "Visible under its name only when fully initialised": an opener racing the creator sees
        // no name, or the object at its full size with its lifetime recorded; never a smaller one.
        long size = 1 << 20;
        for (int round = 0; round < 20; round++) {
            String name = unique("race-" + round);
            AtomicReference<Object> seen = new AtomicReference<>();
            Thread opener = Thread.ofPlatform().name("contract-opener").start(() -> {
                long deadline = System.nanoTime() + WAIT_NANOS;
                while (System.nanoTime() < deadline) {
                    try {
                        NativeHandle h = os.openShm(name, false, false);
                        try {
                            seen.set(List.of(os.currentSize(h), h.lifetime()));
                        } finally {
                            os.close(h);
                        }
                        return;
                    } catch (NoSuchFileException notYet) {
                        Thread.onSpinWait();
                    } catch (IOException | RuntimeException e) {
                        seen.set(e);
                        return;
                    }
                }
                seen.set("never saw it");
            });
            NativeHandle h = create(name, size, LifetimeTag.LAST_CLOSE);
            opener.join(ChildProcess.TIMEOUT);
            assertFalse(opener.isAlive(), "the opener is still trying");
            assertEquals(List.of(size, LifetimeTag.LAST_CLOSE), seen.get(), "round " + round);
            close(h);
            assertNull(os.info(name), "the last close removed it");
        }
    }

    @Test
    void openOfAMissingNameThrowsNoSuchFileNamingIt() throws IOException {
        String name = unique("missing");
        for (boolean writable : new boolean[] {true, false}) {
            NoSuchFileException e = assertThrows(NoSuchFileException.class,
                    () -> held(os.openShm(name, writable, false)));
            assertEquals(name, e.getFile());
        }
        assertNull(os.info(name), "opening creates nothing");
    }

    @Test
    void anOpenedObjectSharesItsBytesWithTheCreator() throws IOException {
        String name = unique("shared");
        NativeHandle c = create(name, 8192, LifetimeTag.PERSISTENT);
        MemorySegment cm = map(c, 0, 8192, READ_WRITE);
        cm.set(JAVA_LONG, 96, 42);
        NativeHandle o = open(name, true);
        assertFalse(o.created());
        assertTrue(o.writable());
        assertFalse(o.fileBacked());
        assertEquals(name, o.name());
        assertEquals(os.objectPath(name), o.path());
        assertEquals(8192, o.size());
        assertEquals(LifetimeTag.PERSISTENT, o.lifetime(), "the lifetime is recorded on the object");
        MemorySegment om = map(o, 0, 8192, READ_WRITE);
        assertEquals(42, om.get(JAVA_LONG, 96));
        om.set(JAVA_LONG, 8000, 7);
        assertEquals(7, cm.get(JAVA_LONG, 8000));
    }

    @Test
    void aReadOnlyHandleCannotMapWritableButCanReadAndCopyOnWrite() throws IOException {
        String name = unique("readonly");
        NativeHandle c = create(name, 4096, LifetimeTag.LAST_CLOSE);
        map(c, 0, 4096, READ_WRITE).set(JAVA_INT, 0, 99);
        NativeHandle r = open(name, false);
        assertFalse(r.writable());
        AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> map(r, 0, 4096, READ_WRITE));
        assertEquals(name, e.getFile());
        MemorySegment ro = map(r, 0, 4096, READ_ONLY);
        assertEquals(99, ro.get(JAVA_INT, 0));
        // Copy-on-write needs no write access to the object: the writes stay in this mapping.
        MemorySegment cow = map(r, 0, 4096, COPY_ON_WRITE);
        cow.set(JAVA_INT, 0, -1);
        assertEquals(-1, cow.get(JAVA_INT, 0));
        assertEquals(99, ro.get(JAVA_INT, 0));
    }

    // ---------------------------------------------------------------------------------------------
    // Mapping and size

    @Test
    void mappingsAtAPageAlignedOffsetSeeTheSameBytes() throws IOException {
        long page = os.pageSize();
        NativeHandle h = create(unique("offset"), 3 * page, LifetimeTag.LAST_CLOSE);
        MemorySegment whole = map(h, 0, 3 * page, READ_WRITE);
        MemorySegment second = map(h, page, page, READ_WRITE);
        assertEquals(page, second.byteSize());
        second.set(JAVA_INT, 8, 0xcafe);
        assertEquals(0xcafe, whole.get(JAVA_INT, page + 8));
        whole.set(JAVA_INT, 2 * page - 4, 5);
        assertEquals(5, second.get(JAVA_INT, page - 4));
    }

    @Test
    void flushWritesAMappingBackToItsFile() throws IOException {
        Path file = dir.resolve("flushed.bin");
        NativeHandle h = held(os.openFile(file, 8192, 0600, true, false));
        MemorySegment m = map(h, 0, 8192, READ_WRITE);
        put(m, 4096, "hello");
        os.flush(m, h.name());
        byte[] onDisk = Files.readAllBytes(file);
        assertEquals(8192, onDisk.length);
        assertEquals("hello", new String(onDisk, 4096, 5, StandardCharsets.US_ASCII));
        // A named object has no file to write to, but flushing one is not an error.
        NativeHandle s = create(unique("flush"), 4096, LifetimeTag.LAST_CLOSE);
        os.flush(map(s, 0, 4096, READ_WRITE), s.name());
    }

    @Test
    void currentSizeFollowsTheObjectWhileTheHandleKeepsItsSizeWhenOpened() throws IOException {
        long page = os.pageSize();
        Path file = dir.resolve("growing.bin");
        NativeHandle small = held(os.openFile(file, page, 0600, true, false));
        assertEquals(page, small.size());
        assertEquals(page, os.currentSize(small));
        NativeHandle big = held(os.openFile(file, 3 * page, 0600, true, false));
        assertEquals(3 * page, big.size());
        assertEquals(page, small.size());
        assertEquals(3 * page, os.currentSize(small), "extended through another handle");
    }

    // ---------------------------------------------------------------------------------------------
    // Files

    @Test
    void openFileCreatesAMissingFileZeroFilled() throws IOException {
        Path file = dir.resolve("created.bin");
        NativeHandle h = held(os.openFile(file, 10000, 0600, true, false));
        assertTrue(h.created());
        assertTrue(h.fileBacked());
        assertTrue(h.writable());
        assertEquals(10000, h.size());
        assertEquals(10000, os.currentSize(h));
        assertEquals(10000, Files.size(file));
        MemorySegment m = map(h, 0, 10000, READ_WRITE);
        assertEquals(-1, m.mismatch(zeros(10000)), "every byte is zero");
        put(m, 9999, "x");
        close(h);
        // A file is not a named object: closing leaves it, with its bytes.
        assertEquals('x', Files.readAllBytes(file)[9999]);
    }

    @Test
    void openFileExtendsAShorterFileKeepingItsBytesAndNeverShrinksOne() throws IOException {
        Path file = dir.resolve("short.bin");
        Files.write(file, "hello".getBytes(StandardCharsets.US_ASCII));
        NativeHandle h = held(os.openFile(file, 8192, 0600, true, false));
        assertFalse(h.created());
        assertEquals(8192, h.size());
        assertEquals(8192, Files.size(file));
        MemorySegment m = map(h, 0, 8192, READ_ONLY);
        assertEquals("hello", new String(m.asSlice(0, 5).toArray(JAVA_BYTE), StandardCharsets.US_ASCII));
        assertEquals(-1, m.asSlice(5).mismatch(zeros(8192 - 5)), "the extension is zero-filled");
        close(h);
        NativeHandle again = held(os.openFile(file, 100, 0600, true, false));
        assertEquals(8192, again.size(), "a smaller size than the file's leaves it as it is");
        assertEquals(8192, Files.size(file));
    }

    @Test
    void openFileWithoutASizeNeedsAnExistingFileAndMapsItAsItIs() throws IOException {
        Path missing = dir.resolve("missing.bin");
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> held(os.openFile(missing, 0, 0600, true, false)));
        assertTrue(e.getFile().endsWith("missing.bin"), "names the file: " + e.getFile());
        assertFalse(Files.exists(missing), "nothing was created");

        Path existing = dir.resolve("existing.bin");
        byte[] bytes = new byte[300];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7);
        }
        Files.write(existing, bytes);
        NativeHandle h = held(os.openFile(existing, 0, 0600, false, false));
        assertFalse(h.created());
        assertFalse(h.writable());
        assertEquals(300, h.size());
        assertArrayEquals(bytes, map(h, 0, 300, READ_ONLY).toArray(JAVA_BYTE));
        AccessDeniedException denied = assertThrows(AccessDeniedException.class, () -> map(h, 0, 300, READ_WRITE));
        assertTrue(denied.getFile().endsWith("existing.bin"), "names the file: " + denied.getFile());
    }

    // ---------------------------------------------------------------------------------------------
    // Lifetime, listing and removal

    @Test
    void theNameGoesWithTheLastHandleOfALastCloseObject() throws IOException {
        String name = unique("lastclose");
        NativeHandle a = create(name, 4096, LifetimeTag.LAST_CLOSE);
        NativeHandle b = open(name, true);
        assertEquals(LifetimeTag.LAST_CLOSE, b.lifetime());
        close(a);
        assertNotNull(os.info(name), "the second handle still holds it");
        // A holder that is not the last takes nothing with it either.
        close(open(name, false));
        assertNotNull(os.info(name));
        close(b);
        assertNull(os.info(name));
        assertNull(listed(os.list(), name));
        assertThrows(NoSuchFileException.class, () -> held(os.openShm(name, false, false)));
    }

    @Test
    void aPersistentObjectOutlivesItsHandles() throws IOException {
        String name = unique("persistent");
        close(create(name, 4096, LifetimeTag.PERSISTENT));
        ObjectInfo info = os.info(name);
        assertNotNull(info);
        assertEquals(LifetimeTag.PERSISTENT, info.lifetime());
        assertEquals(List.of(), info.holderPids());
        NativeHandle again = open(name, true);
        assertFalse(again.created());
        close(again);
        assertNotNull(os.info(name));
    }

    @Test
    void listAndInfoSeeAnObjectUntilItIsRemoved() throws IOException {
        String name = unique("listed");
        NativeHandle h = create(name, 12345, LifetimeTag.PERSISTENT);
        ObjectInfo fromList = listed(os.list(), name);
        assertNotNull(fromList, "list() shows it");
        assertEquals(name, fromList.name());
        assertEquals(os.objectPath(name), fromList.path());
        assertEquals(12345, fromList.size());
        assertEquals(LifetimeTag.PERSISTENT, fromList.lifetime());
        assertTrue(fromList.holderPids().contains(os.currentPid()), "held by this process: " + fromList.holderPids());
        assertEquals(fromList, os.info(name), "info() says what list() says");
        close(h);
        assertEquals(List.of(), os.info(name).holderPids(), "nobody holds it now");
        assertTrue(os.remove(name));
        assertNull(listed(os.list(), name));
        assertNull(os.info(name));
        assertNull(os.info(unique("never-made")));
    }

    @Test
    void removeReturnsTrueThenFalse() throws IOException {
        String name = unique("remove");
        close(create(name, 4096, LifetimeTag.PERSISTENT));
        assertTrue(os.remove(name));
        assertFalse(os.remove(name));
        assertThrows(NoSuchFileException.class, () -> held(os.openShm(name, false, false)));
        assertFalse(os.remove(unique("never-made")));
    }

    @Test
    void removeTakesTheNameAtOnceWhileTheHoldersKeepTheirMemory() throws IOException {
        String name = unique("unlinked");
        NativeHandle old = create(name, 4096, LifetimeTag.LAST_CLOSE);
        MemorySegment oldMap = map(old, 0, 4096, READ_WRITE);
        oldMap.set(JAVA_INT, 0, 1);
        assertTrue(os.remove(name), "removed whoever holds it");
        assertNull(os.info(name));
        assertThrows(NoSuchFileException.class, () -> held(os.openShm(name, false, false)));
        oldMap.set(JAVA_INT, 4, 2);
        assertEquals(1, oldMap.get(JAVA_INT, 0), "the holder keeps its memory");

        // The name is free for a new, separate object...
        NativeHandle fresh = create(name, 8192, LifetimeTag.LAST_CLOSE);
        MemorySegment freshMap = map(fresh, 0, 8192, READ_WRITE);
        assertEquals(0, freshMap.get(JAVA_INT, 0));
        freshMap.set(JAVA_INT, 0, 3);
        assertEquals(1, oldMap.get(JAVA_INT, 0));
        // ...which the last close of the old object must leave alone: a lifetime belongs to an
        // object, not to its name.
        close(old);
        assertNotNull(os.info(name), "the new object kept its name");
        assertEquals(8192, os.info(name).size());
        assertEquals(3, map(open(name, false), 0, 8192, READ_ONLY).get(JAVA_INT, 0));
    }

    @Test
    void reclaimStaleRemovesObjectsWhoseHoldersAllDiedAndNothingElse() throws IOException {
        String orphan = unique("orphan");
        String held = unique("held");
        String kept = unique("kept");
        create(held, 4096, LifetimeTag.LAST_CLOSE);
        close(create(kept, 4096, LifetimeTag.PERSISTENT));
        try (Peer child = peer()) {
            child.ok("create " + orphan + " 4096");
            assertTrue(os.info(orphan).holderPids().contains(child.pid()), "the child holds it");
            // Killed: it closes nothing, the OS releases what it held.
            child.process().kill();
        }
        // A platform may take the name with its last holder's death (the OS does it, as Windows
        // does); where the name stays, it is stale and reclaimStale() must take it.
        ObjectInfo left = os.info(orphan);
        if (left != null) {
            assertEquals(List.of(), left.holderPids(), "nobody holds it now");
        }
        List<String> reclaimed = os.reclaimStale();
        assertEquals(left != null, reclaimed.contains(orphan), "reclaimed: " + reclaimed);
        assertNull(os.info(orphan));
        // An object still held, and a persistent one that nobody holds, are not stale.
        assertFalse(reclaimed.contains(held), "reclaimed: " + reclaimed);
        assertFalse(reclaimed.contains(kept), "reclaimed: " + reclaimed);
        assertNotNull(os.info(held));
        assertNotNull(os.info(kept));
        assertFalse(os.reclaimStale().contains(orphan), "reclaimed once");
    }

    @Test
    void createReclaimsAStaleObjectOfTheSameName() throws IOException {
        String name = unique("reborn");
        try (Peer child = peer()) {
            child.ok("create " + name + " 8192");
            child.process().kill();
        }
        NativeHandle h = create(name, 4096, LifetimeTag.LAST_CLOSE);
        assertTrue(h.created());
        assertEquals(4096, os.currentSize(h));
        // The dead holder filled its object with BackendPeer.FILL: this one is new.
        assertEquals(-1, map(h, 0, 4096, READ_ONLY).mismatch(zeros(4096)), "a new, zero-filled object");
    }

    @Test
    void peekReadsTheFirstBytesWithoutHoldingTheObject() throws IOException {
        String name = unique("peek");
        NativeHandle h = create(name, 4096, LifetimeTag.LAST_CLOSE);
        put(map(h, 0, 4096, READ_WRITE), 0, "shmkit!");
        byte[] head = "shmkit!".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(head, os.peek(name, head.length));
        byte[] more = os.peek(name, 10000);
        assertTrue(more.length >= head.length && more.length <= 10000, "at most what was asked: " + more.length);
        assertArrayEquals(head, Arrays.copyOf(more, head.length));
        // Peeking made no holder: the last close still removes the name, and then there is nothing to peek.
        close(h);
        assertNull(os.info(name));
        assertNull(os.peek(name, 16));
        assertNull(os.peek(unique("never-made"), 16));
    }

    // ---------------------------------------------------------------------------------------------
    // Waiting on a word

    /** A 4-byte word inside a shared object's mapping, as the synchronization primitives use. */
    private MemorySegment word(int offset) throws IOException {
        NativeHandle h = create(unique("word"), os.pageSize(), LifetimeTag.LAST_CLOSE);
        return map(h, 0, os.pageSize(), READ_WRITE).asSlice(offset, 4);
    }

    @Test
    void aWaitReturnsAtOnceWhenTheWordDiffers() throws Exception {
        MemorySegment word = word(64);
        INT.setVolatile(word, 0L, 7);
        assertEquals(-eagain(), os.waitOnAddress(word, 0, WAIT_NANOS));
        assertEquals(-eagain(), os.waitOnAddress(word, 0, 0));
        // Without a time limit too; in another thread, so that a backend that sleeps anyway fails
        // the test instead of hanging it.
        AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
        Thread waiter = Thread.ofPlatform().name("contract-waiter").start(() -> result.set(os.waitOnAddress(word, 6, -1)));
        waiter.join(ChildProcess.TIMEOUT);
        if (waiter.isAlive()) {
            os.wakeAddress(word, Integer.MAX_VALUE);
            waiter.join(ChildProcess.TIMEOUT);
            fail("a wait without a time limit slept although the word differed");
        }
        assertEquals(-eagain(), result.get());
    }

    @Test
    void aWaitThatNobodyWakesReturnsAfterItsTimeout() throws IOException {
        MemorySegment word = word(128);
        long timeout = 50_000_000;
        long start = System.nanoTime();
        long deadline = start + timeout;
        int r;
        do {
            // Spurious returns are allowed: wait again for what is left.
            r = os.waitOnAddress(word, 0, Math.max(0, deadline - System.nanoTime()));
        } while ((r == 0 || r == -eintr()) && System.nanoTime() - start < WAIT_NANOS);
        long took = System.nanoTime() - start;
        assertEquals(-etimedout(), r);
        // Not early: a platform's clock may round to its tick, hence the millisecond of slack.
        assertTrue(took >= timeout - 1_000_000, "returned after " + took + " ns of " + timeout);
        assertEquals(-etimedout(), os.waitOnAddress(word, 0, 0), "a zero timeout only looks");
    }

    @Test
    void wakeWakesAWaiterInAnotherThread() throws Exception {
        MemorySegment word = word(256);
        assertEquals(0, os.wakeAddress(word, 1), "nobody waits yet");
        WaitWord direct = new WaitWord() {
            @Override
            public int await(int expected, long timeoutNanos) {
                return os.waitOnAddress(word, expected, timeoutNanos);
            }

            @Override
            public int wake(int count) {
                return os.wakeAddress(word, count);
            }
        };
        assertWakes(direct, direct, word);
    }

    @Test
    void waitWordsOfTwoMappingsOfOneObjectMeet() throws Exception {
        // What waiting across processes needs: another process maps the object elsewhere. A
        // waiter on one mapping is woken through another, by words obtained each on its own.
        assumeTrue(os.supportsCrossProcessWait(), "this platform cannot wait across processes");
        String name = unique("waitword");
        long page = os.pageSize();
        long offset = 512;
        MemorySegment a = map(create(name, page, LifetimeTag.LAST_CLOSE), 0, page, READ_WRITE).asSlice(offset, 4);
        MemorySegment b = map(open(name, true), 0, page, READ_WRITE).asSlice(offset, 4);
        assertNotEquals(a.address(), b.address());
        WaitWord sleeper = os.waitWord(a, name, offset);
        WaitWord waker = os.waitWord(b, name, offset);
        INT.setVolatile(b, 0L, 5);
        assertEquals(-eagain(), sleeper.await(0, WAIT_NANOS), "a sleeper compares what the other mapping wrote");
        INT.setVolatile(b, 0L, 0);
        assertWakes(sleeper, waker, b);
    }

    /**
     * A thread sleeps on a word that holds 0 (going back to sleep after spurious returns) until
     * {@code waker.wake(1)} reports that it woke it; then the word changes so that the sleeper
     * stops. Asserts that a wake found it asleep and that the woken wait returned 0.
     */
    private void assertWakes(WaitWord sleeper, WaitWord waker, MemorySegment word) throws InterruptedException {
        List<Integer> results = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread waiter = Thread.ofPlatform().name("contract-waiter").start(() -> {
            while (!stop.get()) {
                results.add(sleeper.await(0, WAIT_NANOS));
            }
        });
        int woken = 0;
        try {
            // A wake counts the waiter only once it sleeps, and nothing tells this thread when
            // that is: a bounded poll.
            long deadline = System.nanoTime() + WAIT_NANOS;
            while ((woken = waker.wake(1)) == 0 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000);
            }
        } finally {
            stop.set(true);
            // From now on the word differs, so a waiter going back to sleep returns at once.
            INT.setVolatile(word, 0L, 1);
            waker.wake(Integer.MAX_VALUE);
            waiter.join(ChildProcess.TIMEOUT);
        }
        assertFalse(waiter.isAlive(), "the waiter did not return: " + results);
        assertEquals(1, woken, "no wake found the waiter asleep: " + results);
        assertTrue(results.contains(0), "the woken wait returns 0: " + results);
    }

    @Test
    void processWideBarriersWorkOnceJoined() {
        boolean joined = os.joinProcessWideBarriers();
        assertEquals(joined, os.joinProcessWideBarriers(), "joining again changes nothing");
        if (joined) {
            assertTrue(os.processWideBarrier(), "a platform that lets a process join issues barriers");
        } else {
            // The caller keeps its own fence: this call must at least not fail.
            os.processWideBarrier();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Processes

    @Test
    void currentPidIsThisProcess() {
        assertEquals(ProcessHandle.current().pid(), os.currentPid());
    }

    @Test
    void thePidNamespaceIdIsStable() {
        assertEquals(os.pidNamespaceId(), os.pidNamespaceId());
    }

    @Test
    void thisProcessIsAliveWithItsOwnStartTime() {
        int pid = os.currentPid();
        long start = os.processStartTime(pid);
        assertTrue(start >= 0, "start time " + start);
        assertEquals(start, os.processStartTime(pid), "the same each time");
        assertTrue(os.mayBeAlive(pid, (int) start));
        assertTrue(os.isAlive(pid, start));
        assertTrue(os.isAlive(pid, OsBackend.ANY_START_TIME));
    }

    @Test
    void anotherStartTimeMeansThePidWasReused() {
        int pid = os.currentPid();
        long start = os.processStartTime(pid);
        assertFalse(os.mayBeAlive(pid, (int) start + 1));
        assertFalse(os.mayBeAlive(pid, (int) start - 1));
        assertFalse(os.isAlive(pid, start + 1));
        // isAlive compares the whole start time; mayBeAlive only has its low 32 bits.
        long sameLowBits = start + (1L << 32);
        assertFalse(os.isAlive(pid, sameLowBits));
        assertTrue(os.mayBeAlive(pid, (int) sameLowBits));
    }

    @Test
    void pidsUpToZeroAreNeverAlive() {
        // On POSIX kill(0, 0) and kill(-1, 0) succeed (they address process groups): a backend
        // must not ask them.
        for (int pid : new int[] {0, -1, -2, Integer.MIN_VALUE}) {
            assertFalse(os.mayBeAlive(pid, 0), "mayBeAlive " + pid);
            assertFalse(os.isAlive(pid, OsBackend.ANY_START_TIME), "isAlive " + pid);
            assertEquals(-1, os.processStartTime(pid), "processStartTime " + pid);
            try (ProcessWatch w = os.watch(pid, 0)) {
                assertFalse(w.mayBeAlive(), "watch " + pid);
            }
        }
    }

    @Test
    void aChildThatExitedAndWasReapedIsDead() throws IOException {
        try (Peer child = peer()) {
            int pid = child.pid();
            long start = child.startTime();
            assertEquals(child.process().pid(), pid);
            assertTrue(start >= 0, "start time " + start);
            assertEquals(start, os.processStartTime(pid), "a start time is the same seen from any process");
            assertEquals(os.pidNamespaceId(), child.pidNamespace(), "a child shares its parent's pid namespace");
            assertTrue(os.mayBeAlive(pid, (int) start));
            assertTrue(os.isAlive(pid, start));
            assertTrue(os.isAlive(pid, OsBackend.ANY_START_TIME));
            child.ok("exit");
            assertEquals(0, child.process().waitFor()); // which reaps it
            // Only the pid's reuse by a new process, in the moment since, could make the
            // answers without a start time wrong.
            assertFalse(os.mayBeAlive(pid, (int) start));
            assertFalse(os.isAlive(pid, start));
            assertFalse(os.isAlive(pid, OsBackend.ANY_START_TIME));
            assertEquals(-1, os.processStartTime(pid));
            try (ProcessWatch w = os.watch(pid, (int) start)) {
                assertFalse(w.mayBeAlive());
            }
        }
    }

    /**
     * Python: forks a child that exits when told, then waits for that exit without reaping it
     * ({@code WNOWAIT}), so that the child stays a zombie until this script ends.
     */
    private static final String ZOMBIE_MAKER = """
            import os, sys
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(w)
                os.read(r, 1)
                os._exit(0)
            os.close(r)
            print('CHILD', pid, flush=True)
            sys.stdin.readline()
            os.close(w)
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            print('EXITED', flush=True)
            sys.stdin.readline()
            """;

    @Test
    void aZombieIsDead() throws IOException {
        ChildProcess parent;
        try {
            parent = ChildProcess.start(List.of("python3", "-c", ZOMBIE_MAKER));
        } catch (IOException e) {
            abort("python3 is needed to leave a zombie: " + e.getMessage());
            return;
        }
        try (parent) {
            int pid = Integer.parseInt(parent.awaitPrefix("CHILD "));
            long start = os.processStartTime(pid);
            assertTrue(start >= 0, "start time " + start);
            assertTrue(os.mayBeAlive(pid, (int) start));
            assertTrue(os.isAlive(pid, start));
            try (ProcessWatch watch = os.watch(pid, (int) start)) {
                assertTrue(watch.mayBeAlive());
                parent.send("exit now");
                parent.awaitPrefix("EXITED");
                // It exited; its parent has not collected it, so its pid is still taken.
                assertFalse(os.mayBeAlive(pid, (int) start), "a zombie is dead, only not yet reaped");
                assertFalse(os.isAlive(pid, start));
                assertFalse(os.isAlive(pid, OsBackend.ANY_START_TIME));
                assertEquals(-1, os.processStartTime(pid));
                assertFalse(watch.mayBeAlive());
                try (ProcessWatch late = os.watch(pid, (int) start)) {
                    assertFalse(late.mayBeAlive(), "a watch opened on a zombie");
                }
            }
            parent.closeStdin();
            assertEquals(0, parent.waitFor(), parent.stderr());
        }
    }

    @Test
    void aProcessWhoseFirstThreadEndedLivesWhileAnotherThreadRuns() throws IOException {
        // A C program may end main() with pthread_exit and go on in its other threads, which may
        // hold locks: it must not be taken for dead (on Linux its first thread is a zombie then).
        List<String> program = NativePeers.c("first_thread_exits.c", dir, "-pthread");
        try (ChildProcess child = ChildProcess.start(program)) {
            int pid = Integer.parseInt(child.awaitPrefix("PID "));
            long start = os.processStartTime(pid);
            assertTrue(start >= 0, "start time " + start);
            try (ProcessWatch watch = os.watch(pid, (int) start)) {
                child.send("go");
                child.awaitPrefix("GONE");
                assertTrue(os.mayBeAlive(pid, (int) start), "mayBeAlive");
                assertTrue(os.isAlive(pid, start), "isAlive");
                assertTrue(os.isAlive(pid, OsBackend.ANY_START_TIME), "isAlive, any start time");
                assertEquals(start, os.processStartTime(pid), "the start time is the process's, not its first thread's");
                assertTrue(watch.mayBeAlive(), "a watch opened before");
                try (ProcessWatch late = os.watch(pid, (int) start)) {
                    assertTrue(late.mayBeAlive(), "a watch opened after");
                }
                child.closeStdin();
                assertEquals(0, child.waitFor(), child.stderr());
                assertFalse(watch.mayBeAlive(), "once it ended");
                assertFalse(os.mayBeAlive(pid, (int) start), "once it ended");
            }
        }
    }

    @Test
    void aWatchSeesThisProcessAliveAndNotAnotherStartTime() {
        int pid = os.currentPid();
        long start = os.processStartTime(pid);
        try (ProcessWatch w = os.watch(pid, (int) start)) {
            assertTrue(w.mayBeAlive());
            assertTrue(w.mayBeAlive(), "asking again");
        }
        try (ProcessWatch w = os.watch(pid, (int) start + 1)) {
            assertFalse(w.mayBeAlive(), "another start time: the pid belonged to another process");
        }
    }

    @Test
    void aWatchSeesAChildEnd() throws IOException {
        try (Peer child = peer()) {
            ProcessWatch watch = os.watch(child.pid(), (int) child.startTime());
            try {
                assertTrue(watch.mayBeAlive());
                child.ok("exit");
                // Nothing tells this process the moment the child ends: a bounded poll.
                long deadline = System.nanoTime() + WAIT_NANOS;
                while (watch.mayBeAlive()) {
                    assertTrue(System.nanoTime() < deadline, "the watch still says alive after the child exited");
                    LockSupport.parkNanos(1_000_000);
                }
                assertEquals(0, child.process().waitFor());
                assertFalse(watch.mayBeAlive(), "and stays dead once reaped");
            } finally {
                watch.close();
                watch.close(); // twice is fine
            }
        }
    }
}
