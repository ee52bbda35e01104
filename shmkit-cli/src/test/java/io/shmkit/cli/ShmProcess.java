package io.shmkit.cli;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The real {@code shm} command running in a child JVM (this JVM's java binary and test class path),
 * driven through its stdin and watched through its stdout and stderr. Every wait is bounded;
 * {@link #close()} kills it if it still runs.
 */
final class ShmProcess implements AutoCloseable {

    /** The longest any single wait may take before the test fails. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final String EOF = "\u0000EOF";

    private final Process process;
    private final String description;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer stdout = new StringBuffer();
    private final StringBuffer stderr = new StringBuffer();
    private final Thread[] pumps = new Thread[2];

    private ShmProcess(List<String> args) throws IOException {
        this.description = "shm " + String.join(" ", args);
        this.process = builder(args).start();
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Reader out = new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8);
        Reader err = new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8);
        pumps[0] = Thread.ofPlatform().daemon().start(() -> pump(out, true));
        pumps[1] = Thread.ofPlatform().daemon().start(() -> pump(err, false));
    }

    /**
     * The {@code shm} command in a child JVM, as {@link #start} runs it, for tests that start it
     * themselves (in a pipeline, say).
     *
     * @param args the command line after {@code shm}
     * @return a builder of the process
     */
    static ProcessBuilder builder(List<String> args) {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Shm.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        // Stack traces would break the checks for one-line errors.
        builder.environment().remove("SHMKIT_DEBUG");
        return builder;
    }

    /**
     * Starts {@code shm} with these arguments; its stdin stays open until {@link #closeStdin()}.
     *
     * @param args the command line after {@code shm}
     * @return the running process
     * @throws IOException when it cannot be started
     */
    static ShmProcess start(String... args) throws IOException {
        return new ShmProcess(List.of(args));
    }

    /** Keeps the output exactly as written, and hands each complete stdout line to {@link #await}. */
    private void pump(Reader reader, boolean isStdout) {
        StringBuilder line = new StringBuilder();
        char[] buffer = new char[4096];
        try (reader) {
            int n;
            while ((n = reader.read(buffer)) > 0) {
                (isStdout ? stdout : stderr).append(buffer, 0, n);
                for (int i = 0; i < n && isStdout; i++) {
                    if (buffer[i] == '\n') {
                        lines.add(line.toString());
                        line.setLength(0);
                    } else {
                        line.append(buffer[i]);
                    }
                }
            }
        } catch (IOException ignored) {
            // The process went away; what was read is kept.
        } finally {
            if (isStdout) {
                lines.add(EOF);
            }
        }
    }

    /**
     * Types a line, as a user pressing Enter after it.
     *
     * @param line the line, without its newline
     * @return this
     * @throws IOException when the process no longer reads its stdin
     */
    ShmProcess send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
        return this;
    }

    /**
     * Ends the input (Ctrl-D).
     *
     * @throws IOException when closing fails
     */
    void closeStdin() throws IOException {
        stdin.close();
    }

    /**
     * Waits for the next stdout line that {@code matcher} accepts, skipping others.
     *
     * @param matcher which line
     * @param what the line in words, for the failure message
     * @return the line
     */
    String await(Predicate<String> matcher, String what) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new AssertionError("no " + what + " within " + TIMEOUT.toSeconds() + " s" + diagnostics());
                }
                if (line.equals(EOF)) {
                    lines.add(EOF);
                    throw new AssertionError("stdout ended before " + what + diagnostics());
                }
                if (matcher.test(line)) {
                    return line;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Waits for a stdout line equal to {@code expected}.
     *
     * @param expected the line
     * @return the line
     */
    String awaitLine(String expected) {
        return await(expected::equals, "line \"" + expected + "\"");
    }

    /**
     * Waits for the process to exit, killing it and failing the test when it does not in time.
     *
     * @return its exit code
     */
    int awaitExit() {
        try {
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("did not exit within " + TIMEOUT.toSeconds() + " s" + diagnostics());
            }
            // The pipes close with the process; let the pumps store the last lines.
            for (Thread pump : pumps) {
                pump.join(TIMEOUT.toMillis());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** @return the process id */
    long pid() {
        return process.pid();
    }

    /** @return everything written to stdout so far */
    String stdout() {
        return stdout.toString();
    }

    /** @return everything written to stderr so far */
    String stderr() {
        return stderr.toString();
    }

    /** @return the command and its output, for failure messages */
    String diagnostics() {
        return "\n--- " + description + "\n--- stdout:\n" + stdout() + "--- stderr:\n" + stderr();
    }

    /** Asks the process to end with SIGTERM, as {@code kill PID} does; {@link #awaitExit()} waits for it. */
    void terminate() {
        process.destroy();
    }

    /** Kills the process if it still runs, and waits (bounded) until it is gone. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
