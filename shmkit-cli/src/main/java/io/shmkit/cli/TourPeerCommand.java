package io.shmkit.cli;

import io.shmkit.Lifetime;
import io.shmkit.Segment;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code shm tour-peer NAME}: the second process of {@link TourCommand}, which starts it. Opens
 * the segment by name, reads the greeting, writes a reply, and closes once the tour has read it.
 * Hidden from the help: it only makes sense inside the tour.
 */
@Command(name = "tour-peer", hidden = true,
        description = "The second process of `shm tour`, which starts it; not meant to be run by hand.")
final class TourPeerCommand implements Callable<Integer> {

    private static final Duration POLL = Duration.ofMillis(1);

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment the tour created.")
    private String name;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "20s", converter = Durations.Converter.class,
            description = "How long to wait for the tour to read the reply. Default: ${DEFAULT-VALUE}.")
    private Duration timeout;

    /** Created by picocli. */
    TourPeerCommand() {
    }

    @Override
    public Integer call() throws IOException, TimeoutException {
        PrintWriter out = spec.commandLine().getOut();
        long pid = ProcessHandle.current().pid();
        // Interrupted with Ctrl-C, the tour cannot stop this process: it stops itself when the tour is gone.
        Optional<ProcessHandle> tour = ProcessHandle.current().parent();
        try (Segment segment = SharedMemory.open(name); View view = segment.map()) {
            out.println("opened \"" + name + "\" by its name: " + segment.size() + " bytes, lifetime "
                    + (segment.lifetime() == Lifetime.PERSISTENT ? "persistent" : "until last close"));
            int step = TourCommand.sequence(view.memory());
            if (step != TourCommand.GREETING_WRITTEN) {
                throw new IOException("segment \"" + name + "\" holds no greeting (its sequence word is " + step
                        + "): this command is started by `shm tour`");
            }
            out.println("read at offset " + TourCommand.GREETING_AT + ": \"" + view.getString(TourCommand.GREETING_AT)
                    + "\"");
            String reply = "hello back from pid " + pid;
            view.putString(TourCommand.REPLY_AT, reply);
            out.println("wrote at offset " + TourCommand.REPLY_AT + ": \"" + reply
                    + "\", then set the sequence word to " + TourCommand.REPLY_WRITTEN);
            // Printed before the reply is announced, so the tour has every line once this process exits.
            out.println("waited for the sequence word to become " + TourCommand.DONE
                    + " (\"done\"), then closed its handle and exited");
            out.flush();
            TourCommand.advance(view.memory(), TourCommand.REPLY_WRITTEN);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (TourCommand.sequence(view.memory()) != TourCommand.DONE) {
                if (tour.isPresent() && !tour.get().isAlive()) {
                    throw new IOException("the tour (pid " + tour.get().pid() + ") ended before reading the reply");
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException("the tour did not read the reply in segment \"" + name + "\" within "
                            + Durations.format(timeout));
                }
                LockSupport.parkNanos(POLL.toNanos());
            }
        }
        return ExitCodes.OK;
    }
}
