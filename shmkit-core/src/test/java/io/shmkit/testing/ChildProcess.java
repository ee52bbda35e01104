package io.shmkit.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A real child process (a JVM, python3, or a compiled C program) driven through its stdin and
 * stdout. Every wait is bounded; {@link #close()} kills whatever is still running.
 */
public final class ChildProcess implements AutoCloseable {

    /** How long any single wait in a test may take before it fails. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final String EOF = "\u0000EOF";

    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    /** The last lines consumed by waits, for failure reports. */
    private final ArrayDeque<String> seen = new ArrayDeque<>();
    private long seenCount;
    private final StringBuilder stderr = new StringBuilder();
    private final String description;
    private final Thread stderrPump;

    private ChildProcess(List<String> command) throws IOException {
        this.description = String.join(" ", command);
        this.process = new ProcessBuilder(command).start();
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread out = new Thread(() -> pump(new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), true), "child-stdout");
        Thread err = new Thread(() -> pump(new BufferedReader(
                new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), false), "child-stderr");
        out.setDaemon(true);
        err.setDaemon(true);
        out.start();
        err.start();
        this.stderrPump = err;
    }

    /**
     * Calls {@code call} in another thread while this process holds something (a lock, say) and
     * returns its result, or fails if the call is still waiting after 10 s: it waited for what this
     * process holds. On that failure, this process is ended (so that what it held goes) and the
     * late result closed.
     */
    public <T extends AutoCloseable> T callNotBlockedBy(Callable<T> call, String what) throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        Future<T> result = executor.submit(call);
        try {
            return result.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            close();
            try {
                result.get(20, TimeUnit.SECONDS).close();
            } catch (ExecutionException | TimeoutException ignored) {
                // nothing left to close
            }
            throw new AssertionError(what + " waited for " + description, e);
        } finally {
            executor.shutdownNow();
        }
    }

    /** Starts any command. */
    public static ChildProcess start(List<String> command) throws IOException {
        return new ChildProcess(command);
    }

    /** Starts {@code mainClass} in a new JVM with this JVM's java binary and test class path. */
    public static ChildProcess java(Class<?> mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return new ChildProcess(cmd);
    }

    /**
     * Whether {@link #javaAsNobodyUnderHidepid} can work here at all: it needs root, unshare and
     * setpriv (and, which only trying tells, the right to mount).
     */
    public static boolean mayRunAsNobodyUnderHidepid() {
        return ProcessHandle.current().info().user().orElse("").equals("root")
                && Files.isExecutable(Path.of("/usr/bin/unshare")) && Files.isExecutable(Path.of("/usr/bin/setpriv"));
    }

    /**
     * Starts {@code mainClass} in a new JVM as user nobody, in a mount namespace of its own whose
     * /proc is mounted with hidepid=2: this process's /proc entries are hidden from it, as another
     * user's are on a system mounted so. Its class path holds only this JVM's class directories (the
     * jars under /root are not readable by nobody; none is needed). When it cannot mount (a container
     * without CAP_SYS_ADMIN) or nobody cannot read the checkout, it ends at once, non-zero, and says
     * why on stderr.
     */
    public static ChildProcess javaAsNobodyUnderHidepid(Class<?> mainClass, String... args) throws IOException {
        List<String> java = javaCommand();
        List<String> classes = new ArrayList<>();
        for (String entry : java.getLast().split(":")) {
            if (entry.endsWith("classes")) {
                classes.add(entry);
            }
        }
        List<String> command = new ArrayList<>(List.of("/usr/bin/unshare", "-m", "--propagation", "private",
                "sh", "-c", "mount -t proc -o hidepid=2 proc /proc && exec /usr/bin/setpriv --reuid=65534"
                        + " --regid=65534 --clear-groups \"$@\"", "sh"));
        command.addAll(List.of(java.getFirst(), "--enable-native-access=ALL-UNNAMED", "-cp", String.join(":", classes),
                mainClass.getName()));
        command.addAll(List.of(args));
        return new ChildProcess(command);
    }

    /** The java binary of this JVM with its class path and native access enabled. */
    public static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command().orElse(
                System.getProperty("java.home") + "/bin/java");
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"));
    }

    private void pump(BufferedReader reader, boolean toQueue) {
        try (reader) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (toQueue) {
                    lines.add(line);
                } else {
                    synchronized (stderr) {
                        stderr.append(line).append('\n');
                    }
                }
            }
        } catch (IOException ignored) {
            // The process went away; whatever was read is kept.
        } finally {
            if (toQueue) {
                lines.add(EOF);
            }
        }
    }

    /** Sends one line to the child's stdin. */
    public ChildProcess send(String line) throws IOException {
        stdin.write(line);
        stdin.write('\n');
        stdin.flush();
        return this;
    }

    /** Closes the child's stdin (EOF). */
    public void closeStdin() throws IOException {
        stdin.close();
    }

    /** Waits for the next stdout line that satisfies {@code matcher}, skipping others; fails after {@link #TIMEOUT}. */
    public String await(Predicate<String> matcher, String what) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new AssertionError("timed out after " + TIMEOUT.toSeconds() + " s waiting for " + what
                            + " from: " + description + diagnostics());
                }
                if (line.equals(EOF)) {
                    lines.add(EOF);
                    // Its exit code and all of its stderr (the pump may still be reading it) explain why.
                    int code = waitFor();
                    throw new AssertionError("process ended (exit code " + code + ") before " + what + ": "
                            + description + diagnostics());
                }
                seenCount++;
                seen.addLast(line.length() > 200 ? line.substring(0, 200) + "..." : line);
                if (seen.size() > 20) {
                    seen.removeFirst();
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

    /** Every stdout line that arrived and no wait consumed yet, without waiting. */
    public List<String> drain() {
        List<String> out = new ArrayList<>();
        String line;
        while ((line = lines.poll()) != null) {
            if (line.equals(EOF)) {
                lines.add(EOF);
                break;
            }
            seen.add(line);
            out.add(line);
        }
        return out;
    }

    /** Waits for a line starting with {@code prefix} and returns the rest of it. */
    public String awaitPrefix(String prefix) {
        return await(l -> l.startsWith(prefix), "a line starting with \"" + prefix + "\"").substring(prefix.length());
    }

    /** Waits for the process to exit and returns its exit code; fails after {@link #TIMEOUT}. */
    public int waitFor() {
        try {
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("process did not exit within " + TIMEOUT.toSeconds() + " s: " + description
                        + diagnostics());
            }
            // So that stderr() holds all of it: the pump may still be reading what the child wrote last.
            stderrPump.join(TIMEOUT.toMillis());
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits for exit code 0, failing with the child's output otherwise. */
    public void waitForSuccess() {
        int code = waitFor();
        if (code != 0) {
            throw new AssertionError("exit code " + code + " from: " + description + diagnostics());
        }
    }

    /** Waits for exit code 0 and returns the stdout lines that no wait has consumed. */
    public List<String> remainingOutput() {
        waitForSuccess();
        List<String> out = new ArrayList<>();
        try {
            while (true) {
                String line = lines.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (line == null) {
                    throw new AssertionError("stdout did not end within " + TIMEOUT.toSeconds() + " s after exit: "
                            + description + diagnostics());
                }
                if (line.equals(EOF)) {
                    lines.add(EOF);
                    return out;
                }
                out.add(line);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Kills the process with SIGKILL and waits until it is gone. */
    public void kill() {
        process.destroyForcibly();
        waitFor();
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Everything the child wrote to stderr so far. */
    public String stderr() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    /** What the child wrote, bounded: a failing test that streamed many lines must not drown the report. */
    private String diagnostics() {
        List<String> pending = new ArrayList<>(lines);
        pending.remove(EOF);
        return "\n--- stdout seen (" + seenCount + " lines, the last 20): " + seen
                + " pending (" + pending.size() + ", the first 20): " + pending.subList(0, Math.min(20, pending.size()))
                        .stream().map(l -> l.length() > 200 ? l.substring(0, 200) + "..." : l).toList()
                + "\n--- stderr:\n" + stderr();
    }

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
