package io.shmkit.cli;

import io.shmkit.SharedMemory;
import org.junit.jupiter.api.AfterEach;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every end-to-end CLI test needs: unique segment names, `shm` child processes, and their
 * cleanup after each test (processes killed, segments removed), also when the test fails.
 */
abstract class CliTestSupport {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final String prefix;
    private final List<String> names = new ArrayList<>();
    private final List<ShmProcess> processes = new ArrayList<>();

    CliTestSupport(String prefix) {
        this.prefix = prefix;
    }

    /** A name no other test, in this JVM or another, uses; removed after the test. */
    String uniqueName() {
        String name = prefix + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        names.add(name);
        return name;
    }

    /** Removes a segment some command named itself, after the test. */
    void removeAfterTest(String name) {
        names.add(name);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (ShmProcess p : processes) {
            p.close();
        }
        for (String name : names) {
            SharedMemory.remove(name);
        }
    }

    /** Starts `shm ARGS`; the test drives its stdin. */
    ShmProcess start(String... args) throws IOException {
        ShmProcess p = ShmProcess.start(args);
        processes.add(p);
        return p;
    }

    /** Runs a command with its stdin closed and waits for it. */
    ShmProcess run(String... args) throws IOException {
        return runWithInput(List.of(), args);
    }

    /** Runs a command with these lines on its stdin, and waits for it. */
    ShmProcess runWithInput(List<String> lines, String... args) throws IOException {
        ShmProcess p = start(args);
        for (String line : lines) {
            p.send(line);
        }
        p.closeStdin();
        p.awaitExit();
        return p;
    }

    /** Waits, bounded, until a condition holds; polls it with short parks. */
    static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + ShmProcess.TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting until " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /**
     * Runs {@code shm ARGS | head -n 1} and checks that shm, which would go on printing or waiting,
     * ends with exit code 0 and nothing on stderr once head has its line and exits, although it
     * may have nothing new to print (it must not wait for its next write to find out).
     *
     * @param firstLine the line head should print
     */
    static void assertEndsOnceHeadHasItsLine(String firstLine, String... args) throws Exception {
        List<Process> pipeline = ProcessBuilder.startPipeline(List.of(
                ShmProcess.builder(List.of(args)).redirectInput(new File("/dev/null")),
                new ProcessBuilder("head", "-n", "1")));
        Process shm = pipeline.getFirst();
        Process head = pipeline.getLast();
        try {
            // What shm prints fits in the pipe, so head exits without our reading; then the read ends.
            assertTrue(head.waitFor(ShmProcess.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "head exits");
            assertEquals(firstLine + "\n", new String(head.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertTrue(shm.waitFor(ShmProcess.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                    "shm " + String.join(" ", args) + " exits once nobody reads its output");
            String err = new String(shm.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, shm.exitValue(), "exit code; stderr: " + err);
            assertEquals("", err, "nothing on stderr");
        } finally {
            pipeline.forEach(Process::destroyForcibly);
        }
    }

    static void assertExit(int expected, ShmProcess p) {
        assertEquals(expected, p.awaitExit(), "exit code" + p.diagnostics());
    }

    /** One line on stderr, {@code shm: ...}, that contains {@code words}; no stack trace. */
    static void assertOneLineError(ShmProcess p, String words) {
        String err = p.stderr();
        assertTrue(err.startsWith("shm: ") && err.endsWith("\n") && err.indexOf('\n') == err.length() - 1,
                "one error line expected" + p.diagnostics());
        assertTrue(err.contains(words), "error should mention " + words + p.diagnostics());
    }
}
