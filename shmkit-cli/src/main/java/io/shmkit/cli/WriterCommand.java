package io.shmkit.cli;

import io.shmkit.Segment;
import io.shmkit.SegmentInfo;
import io.shmkit.SegmentOptions;
import io.shmkit.SeqLock;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import picocli.CommandLine.Command;
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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code shm writer NAME}: the writer of the classic Win32 tutorial ({@code CreateFileMapping},
 * {@code MapViewOfFile}, {@code CopyMemory}), publishing each line typed as the current message.
 */
@Command(name = "writer",
        description = {
            "The writer of the classic Win32 shared memory tutorial: creates the segment NAME, then publishes each "
                + "line read from stdin as the current message, until a line `exit` or the end of input (Ctrl-D).",
            "Run `shm reader NAME` in another terminal to read the messages.",
            "Lifetime: until last close. The segment lives while this writer runs (or a reader holds it) and is "
                + "removed when the writer exits, Ctrl-C included. After a kill -9 it is left stale: `shm ls` marks "
                + "it, and the next create or open of the name removes it.",
            "Each message is published whole through a seqlock (docs/sync.md): readers never see half of one. The "
                + "message is a NUL-terminated UTF-8 string at offset 128, after the seqlock's header, so a C reader "
                + "doing printf(\"%%s\", buf + 128) sees it too; one following the seqlock protocol never sees a torn "
                + "one."},
        footer = {"%nThe writer exits with 0 when it ends normally, 4 when NAME exists already (another writer?), 3 "
            + "when the segment was removed while it ran, and 2 when a message did not fit (it keeps going then)."})
final class WriterCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment to create, e.g. demo.")
    private String name;

    @Option(names = "--size", paramLabel = "SIZE", defaultValue = "4K", converter = ByteSizes.SizeConverter.class,
            description = "Its size: the longest message plus 129 bytes (a 128-byte header and the NUL). "
                + "Default: ${DEFAULT-VALUE}.")
    private long size;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", converter = Permissions.class,
            description = "Permission bits in octal; readers of other users need at least 604. "
                + "Default: ${DEFAULT-VALUE}.")
    private int mode;

    /** Created by picocli. */
    WriterCommand() {
    }

    @Override
    public Integer call() throws IOException {
        if (size < MessageSlot.MIN_SEGMENT_SIZE) {
            throw new ParameterException(spec.commandLine(), "--size " + size + " is too small for messages: give at "
                    + "least " + MessageSlot.MIN_SEGMENT_SIZE + " bytes (a 128-byte header, the message and its NUL)");
        }
        Segment segment;
        try {
            segment = SharedMemory.create(name, size, SegmentOptions.defaults().permissions(mode));
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(null, null, "segment \"" + name + "\" already exists: is another "
                    + "`shm writer " + name + "` running? `shm info " + name + "` shows who holds it; `shm rm "
                    + name + "` removes it");
        }
        // Ctrl-C ends the JVM without unwinding this method: close the handle anyway, so the name goes now.
        Thread closeOnExit = Thread.ofPlatform().unstarted(segment::close);
        Runtime.getRuntime().addShutdownHook(closeOnExit);
        PrintWriter out = spec.commandLine().getOut();
        int exitCode;
        try (segment; View view = segment.map()) {
            SeqLock slot = MessageSlot.create(view);
            out.println("writer: created \"" + name + "\" (" + ByteSizes.human(size) + ") at " + segment.path()
                    + "; it is removed when this writer exits");
            out.println("writer: each line you type becomes the message `shm reader " + name
                    + "` shows; `exit` or Ctrl-D ends");
            exitCode = publishLines(slot, out);
        }
        Runtime.getRuntime().removeShutdownHook(closeOnExit);
        out.println(SharedMemory.exists(name)
                ? "writer: closed \"" + name + "\"; it stays while other processes hold it (`shm info " + name + "`)"
                : "writer: closed \"" + name + "\"; no holder is left, so it is removed");
        return exitCode;
    }

    private int publishLines(SeqLock slot, PrintWriter out) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        boolean prompt = Shm.interactive();
        int exitCode = ExitCodes.OK;
        while (true) {
            if (prompt) {
                out.print("message> ");
                out.flush();
            }
            String line = in.readLine();
            if (line == null || line.strip().equals("exit")) {
                return exitCode;
            }
            checkStillNamed();
            try {
                MessageSlot.publish(slot, line);
                out.println("published \"" + line + "\"");
            } catch (IllegalArgumentException tooLong) {
                Shm.report(spec.commandLine().getErr(), tooLong);
                if (exitCode == ExitCodes.OK) {
                    exitCode = ExitCodes.forException(tooLong);
                }
            }
        }
    }

    /**
     * Fails when the name no longer leads to this writer's segment ({@code shm rm} removed it, and
     * perhaps another writer re-created it): readers could not see what it publishes.
     */
    private void checkStillNamed() throws IOException {
        Optional<SegmentInfo> now = SharedMemory.info(name);
        int pid = (int) ProcessHandle.current().pid();
        // No holders at all means the holders could not be read (/proc/locks hidden): not proof of removal.
        boolean replaced = now.isPresent() && now.get().holders() > 0 && !now.get().holderPids().contains(pid);
        if (now.isEmpty() || replaced) {
            throw new NoSuchFileException(null, null, "segment \"" + name + "\" was removed while this writer ran "
                    + "(by `shm rm`?), so readers cannot find it any more; start the writer again");
        }
    }
}
