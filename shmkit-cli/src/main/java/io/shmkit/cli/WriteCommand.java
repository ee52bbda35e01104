package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Segment;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * {@code shm write NAME [--offset N] [TEXT]}: writes text into a segment as a C string.
 */
@Command(name = "write",
        description = {
            "Write TEXT (or, without TEXT, everything on stdin) into a segment as a C string: its UTF-8 bytes "
                + "and a NUL byte, at --offset. From stdin, one trailing newline is dropped, as $(...) does.",
            "The rest of the segment is left as it was."})
final class WriteCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment name.")
    private String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT",
            description = "What to write; read from stdin when absent.")
    private String text;

    @Option(names = "--offset", paramLabel = "N", defaultValue = "0", converter = ByteSizes.OffsetConverter.class,
            description = "Where to write, in bytes from the start (suffixes K, M, ... allowed). "
                + "Default: ${DEFAULT-VALUE}.")
    private long offset;

    @Mixin
    private ForeignOwnerOption foreign;

    /** Created by picocli. */
    WriteCommand() {
    }

    @Override
    public Integer call() throws IOException {
        String message = text != null ? text : readStdin();
        long bytes = message.getBytes(StandardCharsets.UTF_8).length + 1L;
        try (Segment segment = SharedMemory.open(name, foreign.options(Access.READ_WRITE))) {
            long size = segment.size();
            if (offset >= size) {
                throw new IllegalArgumentException("offset " + offset + " is past the end of segment \"" + name
                        + "\" (" + size + " bytes)");
            }
            if (bytes > size - offset) {
                throw new IllegalArgumentException("the text needs " + bytes + " bytes with its NUL, but segment \""
                        + name + "\" has " + (size - offset) + " bytes from offset " + offset);
            }
            try (View view = segment.map(offset, bytes)) {
                view.putString(0, message);
            }
        }
        spec.commandLine().getOut().println("wrote " + bytes + " bytes (" + (bytes - 1) + " of text and a NUL) to \""
                + name + "\" at offset " + offset);
        return ExitCodes.OK;
    }

    private String readStdin() throws IOException {
        if (Shm.interactive()) {
            spec.commandLine().getErr().println("reading the text from stdin; end it with Ctrl-D");
        }
        String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        if (input.endsWith("\r\n")) {
            return input.substring(0, input.length() - 2);
        }
        return input.endsWith("\n") ? input.substring(0, input.length() - 1) : input;
    }
}
