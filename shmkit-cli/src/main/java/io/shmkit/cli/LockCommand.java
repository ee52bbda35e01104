package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Lifetime;
import io.shmkit.SegmentOptions;
import io.shmkit.SharedMutex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code shm lock NAME -- COMMAND...}: runs a command while holding a named, robust mutex, like
 * {@code flock(1)} does with a file lock, so that scripts on the same machine take turns.
 */
@Command(name = "lock",
        description = {
            "Run COMMAND while holding the named mutex NAME (a robust interprocess mutex; created if missing), like "
                + "flock(1): other `shm lock NAME` commands, and programs using SharedMutex NAME, wait their turn.",
            "Exits with COMMAND's exit code (128 + the signal number when a signal ended it; 127 when it could not "
                + "be found, 126 when it could not be run, as shells do).",
            "When the previous holder died holding the mutex (kill -9 included), it says so on stderr before running "
                + "COMMAND, and marks the mutex consistent again once COMMAND succeeds (exit code 0); until then every "
                + "next holder is told.",
            "The mutex is persistent: it stays, with its record of dead holders, until `shm rm NAME`. `shm info NAME` "
                + "shows who holds it."},
        footer = {"%nExample: shm lock nightly-build --timeout 10m -- make all"})
final class LockCommand implements Callable<Integer> {

    /** How long a clean shutdown (Ctrl-C, SIGTERM) waits for COMMAND to end before unlocking anyway. */
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The mutex, e.g. nightly-build (/dev/shm/NAME).")
    private String name;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND",
            description = "The command and its arguments; put `--` before it so that its options stay its own.")
    private List<String> command;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "Give up waiting for the mutex after this long (e.g. 500ms, 15s, 2m), with exit code 6. "
                + "Default: wait as long as it takes.")
    private Duration timeout;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", converter = Permissions.class,
            description = "Permission bits in octal if the mutex is created; others need 606 to lock it. "
                + "Default: ${DEFAULT-VALUE}.")
    private int mode;

    @Mixin
    private ForeignOwnerOption foreign;

    private volatile Process child;

    /** Created by picocli. */
    LockCommand() {
    }

    @Override
    public Integer call() throws IOException, TimeoutException, InterruptedException {
        SegmentOptions options = foreign.options(Access.READ_WRITE).permissions(mode).lifetime(Lifetime.PERSISTENT);
        PrintWriter err = spec.commandLine().getErr();
        try (SharedMutex mutex = SharedMutex.openOrCreate(name, options)) {
            acquire(mutex);
            CountDownLatch unlocked = new CountDownLatch(1);
            Thread onShutdown = Thread.ofPlatform().unstarted(() -> endChildThenAwait(unlocked));
            Runtime.getRuntime().addShutdownHook(onShutdown);
            int exitCode = ExitCodes.FAILURE;
            boolean ownerDied = !mutex.isConsistent();
            try {
                if (ownerDied) {
                    err.println("shm lock: the previous holder of \"" + name + "\""
                            + (mutex.lastDeadOwnerPid() != 0 ? " (pid " + mutex.lastDeadOwnerPid() + ")" : "")
                            + " died holding it: what it protects may be inconsistent; running the command, which "
                            + "clears this if it succeeds");
                    err.flush();
                }
                exitCode = run(err);
                if (ownerDied && exitCode == 0) {
                    mutex.markConsistent();
                }
            } finally {
                mutex.unlock();
                unlocked.countDown();
            }
            removeHook(onShutdown);
            return exitCode;
        }
    }

    private void acquire(SharedMutex mutex) throws TimeoutException, InterruptedException {
        if (timeout == null) {
            mutex.lockInterruptibly();
        } else if (!mutex.tryLock(timeout)) {
            int owner = mutex.ownerPid();
            throw new TimeoutException("could not lock \"" + name + "\" within " + Durations.format(timeout)
                    + " (--timeout)" + (owner != 0 ? ": pid " + owner + " holds it" : ""));
        }
    }

    /** Runs the command with this process's stdin, stdout and stderr; returns its exit code. */
    private int run(PrintWriter err) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).inheritIO().start();
        } catch (IOException e) {
            // 127 and 126, as shells, env(1) and flock(1) report a command that cannot be run.
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            err.println("shm lock: cannot run " + command.getFirst() + ": " + reason);
            return reason.contains("Permission denied") ? 126 : 127;
        }
        child = p;
        // Java reports a process ended by signal N as 128 + N, as shells do.
        return p.waitFor();
    }

    /**
     * On Ctrl-C or SIGTERM the JVM shuts down while the main thread still waits for the command:
     * let the command end (Ctrl-C reached it too; SIGTERM is passed on) and the main thread unlock,
     * so that the next holder is not told that this one died.
     */
    private void endChildThenAwait(CountDownLatch unlocked) {
        try {
            Process p = child;
            if (p != null && p.isAlive()) {
                p.destroy();
                p.waitFor(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
            unlocked.await(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or about to; it returns at once now that the mutex is unlocked.
        }
    }
}
