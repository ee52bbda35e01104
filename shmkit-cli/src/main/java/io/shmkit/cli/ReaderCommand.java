package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Segment;
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
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
                + "press Ctrl-C. It checks for changes every 20 ms; a message published twice in a row is seen once."},
        footer = {"%nThe reader exits with 0 when it ends normally (the segment disappearing ends --follow normally), "
            + "3 when there is no segment NAME (or it disappeared before --count messages), 6 when --timeout ran out."})
final class ReaderCommand implements Callable<Integer> {

    private static final Duration POLL = Duration.ofMillis(20);

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
        String current;
        try {
            current = readMessage();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(null, null,
                    "no segment \"" + name + "\": start `shm writer " + name + "` first");
        }
        return follow ? follow(current) : readOnEnter();
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
                print(readMessage());
            } catch (NoSuchFileException e) {
                throw new NoSuchFileException(null, null, "segment \"" + name + "\" is gone: its writer exited, or "
                        + "it was removed (start `shm writer " + name + "` again)");
            }
        }
        return ExitCodes.OK;
    }

    private int follow(String current) throws IOException, TimeoutException {
        long start = System.nanoTime();
        long limit = timeout == null ? Long.MAX_VALUE : saturatedNanos(timeout);
        int printed = 0;
        String last = current;
        if (!current.isEmpty()) {
            print(current);
            printed++;
        }
        while (count == null || printed < count) {
            long left = limit - (System.nanoTime() - start);
            if (left <= 0) {
                throw new TimeoutException("stopped following \"" + name + "\" after " + Durations.format(timeout)
                        + " (--timeout)" + (count == null ? "" : ", having seen " + printed + " of " + count
                        + " messages"));
            }
            LockSupport.parkNanos(Math.min(POLL.toNanos(), left));
            String now;
            try {
                now = readMessage();
            } catch (NoSuchFileException gone) {
                if (count != null) {
                    throw new NoSuchFileException(null, null, "segment \"" + name + "\" is gone after " + printed
                            + " of " + count + " messages: its writer exited, or it was removed");
                }
                spec.commandLine().getErr().println("reader: segment \"" + name + "\" is gone: its writer exited, "
                        + "or it was removed");
                return ExitCodes.OK;
            }
            if (!now.equals(last)) {
                last = now;
                print(now);
                printed++;
            }
        }
        return ExitCodes.OK;
    }

    private String readMessage() throws IOException {
        try (Segment segment = SharedMemory.open(name, foreign.options(Access.READ_ONLY)); View view = segment.map()) {
            return MessageSlot.read(view);
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
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }
}
