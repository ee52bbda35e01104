package io.shmkit.cli;

import io.shmkit.Lifetime;
import io.shmkit.SegmentInfo;
import io.shmkit.SegmentOptions;
import io.shmkit.SharedMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;

/**
 * {@code shm create NAME --size 4K}: creates a zero-filled segment that outlives the command.
 *
 * <p>The library's default lifetime removes a segment when its last holder closes; this command
 * is its only holder and exits at once, so it always creates a {@link Lifetime#PERSISTENT} one.
 */
@Command(name = "create",
        description = {
            "Create a named segment, filled with zeros, readable and writable by its owner only unless --mode says "
                + "otherwise.",
            "Lifetime: the segment is PERSISTENT. It outlives this command and stays until `shm rm NAME` removes it "
                + "(a segment that vanished when the creating command exits would be of no use).",
            "Other programs open it by name: C shm_open(\"/NAME\"), Python SharedMemory(name=\"NAME\")."})
final class CreateCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The segment name, e.g. demo (on Linux /dev/shm/demo).")
    private String name;

    @Option(names = "--size", required = true, paramLabel = "SIZE", converter = ByteSizes.SizeConverter.class,
            description = "Its size: bytes, or with a suffix K, M, G, T (powers of 1024), e.g. 4K.")
    private long size;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", converter = Permissions.class,
            description = "Permission bits in octal, applied exactly (the umask does not reduce them). "
                + "Default: ${DEFAULT-VALUE}.")
    private int mode;

    @Option(names = "--persistent",
            description = "Accepted for clarity: `create` always makes a persistent segment.")
    private boolean persistent;

    @Mixin
    private JsonOption json;

    /** Created by picocli. */
    CreateCommand() {
    }

    @Override
    public Integer call() throws IOException {
        SegmentOptions options = SegmentOptions.defaults().permissions(mode).lifetime(Lifetime.PERSISTENT);
        SharedMemory.create(name, size, options).close();
        SegmentInfo info = SharedMemory.info(name).orElseThrow(() -> new NoSuchFileException(name, null,
                "created, then removed by someone else before it could be described"));
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            out.println(Json.write(SegmentFormat.json(info)));
        } else {
            out.println("created \"" + info.name() + "\": " + info.size() + " bytes (" + ByteSizes.human(info.size())
                    + "), mode " + SegmentFormat.permissions(info) + ", at " + info.path());
            out.println("it is persistent: it stays until `shm rm " + info.name() + "` removes it");
        }
        return ExitCodes.OK;
    }
}
