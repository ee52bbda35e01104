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

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code shm read NAME [--offset N] [--length N] [--hex]}: prints what a segment holds.
 */
@Command(name = "read",
        description = {
            "Print the C string (UTF-8, up to the first NUL byte or the end of the segment) at --offset, or, with "
                + "--length, exactly that many bytes as they are.",
            "--hex prints a hex dump like xxd instead, with offsets counted from the start of the segment."})
final class ReadCommand implements Callable<Integer> {

    /** Larger ranges are dumped in pieces of this size, a multiple of a hex dump line. */
    private static final int CHUNK = 64 * 1024;
    /** JSON output is built in memory; beyond this, raw or --hex output (which stream) is the better tool. */
    private static final long MAX_JSON_BYTES = 16L << 20;

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment name.")
    private String name;

    @Option(names = "--offset", paramLabel = "N", defaultValue = "0", converter = ByteSizes.OffsetConverter.class,
            description = "Where to start, in bytes (suffixes K, M, ... allowed). Default: ${DEFAULT-VALUE}.")
    private long offset;

    @Option(names = "--length", paramLabel = "N", converter = ByteSizes.OffsetConverter.class,
            description = "Read exactly N bytes instead of a NUL-terminated string.")
    private Long length;

    @Option(names = "--hex", description = "Print a hex dump (like xxd) instead of the text.")
    private boolean hex;

    @Mixin
    private ForeignOwnerOption foreign;

    @Mixin
    private JsonOption json;

    /** Created by picocli. */
    ReadCommand() {
    }

    @Override
    public Integer call() throws IOException {
        if (length != null && length == 0) {
            throw new ParameterException(spec.commandLine(), "--length must be at least 1 byte");
        }
        try (Segment segment = SharedMemory.open(name, foreign.options(Access.READ_ONLY))) {
            long size = segment.size();
            if (offset >= size) {
                throw new IllegalArgumentException("offset " + offset + " is past the end of segment \"" + name
                        + "\" (" + size + " bytes)");
            }
            if (length != null && length > size - offset) {
                throw new IllegalArgumentException(length + " bytes from offset " + offset
                        + " run past the end of segment \"" + name + "\" (" + size + " bytes)");
            }
            long span = length != null ? length : size - offset;
            try (View view = segment.map(offset, span)) {
                if (length == null) {
                    printString(view);
                } else {
                    printBytes(view);
                }
            }
        }
        return ExitCodes.OK;
    }

    private void printString(View view) {
        PrintWriter out = spec.commandLine().getOut();
        if (hex) {
            // The bytes as they are (not re-encoded), with the NUL that ends them when there is one.
            long end = 0;
            MemorySegment memory = view.memory();
            while (end < memory.byteSize() && memory.get(ValueLayout.JAVA_BYTE, end) != 0) {
                end++;
            }
            int n = (int) Math.min(end + 1, memory.byteSize());
            StringBuilder dump = new StringBuilder();
            Hexdump.append(dump, view.getBytes(0, n), n, offset);
            out.print(dump);
            return;
        }
        String text = view.getString(0);
        if (json.enabled()) {
            Map<String, Object> o = header(text.getBytes(StandardCharsets.UTF_8).length);
            o.put("text", text);
            out.println(Json.write(o));
        } else {
            out.println(text);
        }
    }

    private void printBytes(View view) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            if (view.length() > MAX_JSON_BYTES) {
                throw new IllegalArgumentException("--json prints at most " + ByteSizes.human(MAX_JSON_BYTES)
                        + "; use --hex, or raw output, for " + view.length() + " bytes");
            }
            Map<String, Object> o = header(view.length());
            o.put("hex", HexFormat.of().formatHex(view.getBytes(0, (int) view.length())));
            out.println(Json.write(o));
            return;
        }
        out.flush();
        for (long at = 0; at < view.length(); at += CHUNK) {
            int n = (int) Math.min(CHUNK, view.length() - at);
            byte[] bytes = view.getBytes(at, n);
            if (hex) {
                StringBuilder dump = new StringBuilder();
                Hexdump.append(dump, bytes, n, offset + at);
                out.print(dump);
                out.flush();
            } else {
                System.out.write(bytes);
            }
        }
        System.out.flush();
    }

    private Map<String, Object> header(long bytes) {
        Map<String, Object> o = Json.object();
        o.put("name", name);
        o.put("offset", offset);
        o.put("length", bytes);
        return o;
    }
}
