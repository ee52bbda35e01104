package io.shmkit.cli;

import io.shmkit.SegmentInfo;
import io.shmkit.SharedMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code shm info NAME}: everything known of one segment.
 */
@Command(name = "info",
        description = "Show everything known of a segment: where the OS keeps it, size, owner, permissions, "
            + "lifetime, the pids of the processes holding it open through shmkit, and what it holds: data, a "
            + "named mutex, event, semaphore or seqlock and its state (who holds the mutex, whether the event is "
            + "set, the count, the version), or a message channel (`shm stat` shows its participants).")
final class InfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment name.")
    private String name;

    @Mixin
    private JsonOption json;

    /** Created by picocli. */
    InfoCommand() {
    }

    @Override
    public Integer call() throws IOException {
        SegmentInfo info = SharedMemory.info(name).orElseThrow(() -> new NoSuchFileException(name, null,
                "no shared memory segment with this name (" + SharedMemory.osPath(name) + ")"));
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> o = SegmentFormat.json(info);
            out.println(Json.write(o));
            return ExitCodes.OK;
        }
        out.println("name:         " + info.name());
        out.println("path:         " + info.path());
        out.println("size:         " + info.size() + " bytes (" + ByteSizes.human(info.size()) + ")");
        out.println("owner:        " + info.ownerName() + " (uid " + info.ownerUid() + ")");
        out.println("permissions:  " + SegmentFormat.permissions(info));
        out.println("lifetime:     " + SegmentFormat.lifetimeExplained(info));
        out.println("created by:   " + (info.managed() ? "shmkit" : "another program (C, Python, ...)"));
        out.println("holders:      " + SegmentFormat.holders(info));
        out.println("holds:        " + SegmentFormat.kind(info));
        return ExitCodes.OK;
    }
}
