package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Segment;
import io.shmkit.SeqLock;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code shm reader NAME}: the reader of the classic Win32 tutorial ({@code OpenFileMapping},
 * {@code MapViewOfFile}), printing the message that {@code shm writer NAME} published.
 *
 * <p>It opens the segment for each read and closes it again, as the tutorial does, so it never
 * keeps a writer's segment alive: when the writer exits, the segment goes and the reader says so.
 */
@Command(name = "reader",
        description = {
            "The reader of the classic Win32 shared memory tutorial: opens the segment NAME that `shm writer NAME` "
                + "created and prints its current message each time you press Enter. `exit` or Ctrl-D ends.",
            "With --follow it prints the current message (unless empty), then each new one as it changes, until the "
                + "segment disappears (its writer exited), --count messages were printed, --timeout ran out, or you "
                + "press Ctrl-C. It sleeps until the writer publishes (woken by it: no polling) and prints every "
                + "message published, whole (a seqlock guarantees it), even one repeating the last."},
        footer = {"%nThe reader exits with 0 when it ends normally (the segment disappearing ends --follow normally), "
            + "3 when there is no segment NAME (or it disappeared before --count messages), 6 when --timeout ran out."})
final class ReaderCommand implements Callable<Integer> {

    /**
     * How long a follower keeps the segment open while it sleeps. It then closes and re-opens it,
     * so that it never keeps a writer's segment alive for long and notices when it is gone.
     */
    private static final Duration HOLD = Duration.ofMillis(250);

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment the writer created.")
    private String name;

    @Option(names = "--follow", description = "Print each new message as it changes, instead of on Enter.")
    private boolean follow;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "With --follow: stop after this long (e.g. 30s, 2m), with exit code 6.")
    private Duration timeout;

    @Option(names = "--count", paramLabel = "N",
            description = "With --follow: exit after printing N messages.")
    private Integer count;

    @Mixin
    private ForeignOwnerOption foreign;

    @Mixin
    private JsonOption json;

    private CleanShutdown shutdown;

    /** Created by picocli. */
    ReaderCommand() {
    }

    @Override
    public Integer call() throws IOException, TimeoutException {
        if (!follow && (timeout != null || count != null)) {
            throw new ParameterException(spec.commandLine(), "--timeout and --count go with --follow");
        }
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, not " + count);
        }
        MessageSlot.Message current;
        try {
            current = readMessage();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(null, null,
                    "no segment \"" + name + "\": start `shm writer " + name + "` first");
        }
        if (!follow) {
            return readOnEnter();
        }
        // Ctrl-C leaves no follower counted in the segment's seqlock.
        try (CleanShutdown stopping = new CleanShutdown()) {
            shutdown = stopping;
            return follow(current);
        }
    }

    private int readOnEnter() throws IOException {
        if (Shm.interactive()) {
            spec.commandLine().getErr().println("reader: press Enter to print the message of \"" + name
                    + "\"; `exit` or Ctrl-D ends");
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.strip().equals("exit")) {
            try {
                print(readMessage().text());
            } catch (NoSuchFileException e) {
                throw new NoSuchFileException(null, null, "segment \"" + name + "\" is gone: its writer exited, or "
                        + "it was removed (start `shm writer " + name + "` again)");
            }
        }
        return ExitCodes.OK;
    }

    private int follow(MessageSlot.Message current) throws IOException, TimeoutException {
        long start = System.nanoTime();
        long limit = timeout == null ? Long.MAX_VALUE : Durations.saturatedNanos(timeout);
        int printed = 0;
        long seen = current.version();
        if (!current.text().isEmpty()) {
            print(current.text());
            printed++;
        }
        while (count == null || printed < count) {
            long left = limit - (System.nanoTime() - start);
            if (left <= 0) {
                throw new TimeoutException("stopped following \"" + name + "\" after " + Durations.format(timeout)
                        + " (--timeout)" + (count == null ? "" : ", having seen " + printed + " of " + count
                        + " messages"));
            }
            MessageSlot.Message next;
            try {
                next = awaitNext(seen, Math.min(HOLD.toNanos(), left));
            } catch (NoSuchFileException gone) {
                if (count != null) {
                    throw new NoSuchFileException(null, null, "segment \"" + name + "\" is gone after " + printed
                            + " of " + count + " messages: its writer exited, or it was removed");
                }
                spec.commandLine().getErr().println("reader: segment \"" + name + "\" is gone: its writer exited, "
                        + "or it was removed");
                return ExitCodes.OK;
            }
            if (next != null) {
                seen = next.version();
                print(next.text());
                printed++;
            } else {
                shutdown.check();
                if (StdoutReader.gone()) {
                    // `shm reader x --follow | head -1` once head has its line: end now, not at the next message.
                    throw new StdoutReader.StdoutClosed();
                }
            }
        }
        return ExitCodes.OK;
    }

    private MessageSlot.Message readMessage() throws IOException {
        try (Segment segment = SharedMemory.open(name, foreign.options(Access.READ_ONLY)); View view = segment.map()) {
            return MessageSlot.read(MessageSlot.attach(view));
        }
    }

    /**
     * Sleeps until a message newer than {@code version} is published, at most {@code nanos}.
     *
     * @return the new message, or null when none came in time
     */
    private MessageSlot.Message awaitNext(long version, long nanos) throws IOException {
        try (Segment segment = openToFollow(); View view = segment.map()) {
            SeqLock slot = MessageSlot.attach(view);
            if (slot == null) {
                // Nothing was ever published here, so no writer can wake us: look again after a while.
                LockSupport.parkNanos(nanos);
                return null;
            }
            if (!slot.awaitChange(version, Duration.ofNanos(nanos))) {
                return null;
            }
            return MessageSlot.read(slot);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while following \"" + name + "\"");
        }
    }

    /**
     * Read-write if allowed: a follower registers in the seqlock so that the writer wakes it (a
     * write of one counter). Read-only otherwise (another user's segment, mode 604): it then
     * checks for new messages with a short backoff instead.
     */
    private Segment openToFollow() throws IOException {
        try {
            return SharedMemory.open(name, foreign.options(Access.READ_WRITE));
        } catch (AccessDeniedException readOnly) {
            return SharedMemory.open(name, foreign.options(Access.READ_ONLY));
        }
    }

    private void print(String message) {
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> o = Json.object();
            o.put("name", name);
            o.put("message", message);
            out.println(Json.write(o));
        } else {
            out.println(message);
        }
        StdoutReader.check(out);
    }
}
