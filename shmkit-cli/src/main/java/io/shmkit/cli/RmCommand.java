package io.shmkit.cli;

import io.shmkit.SegmentInfo;
import io.shmkit.SharedMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code shm rm NAME...} and {@code shm rm --stale}: removes segments.
 */
@Command(name = "rm",
        description = {
            "Remove segments by name, like shm_unlink: the name is gone at once; processes that have the segment "
                + "mapped keep their memory until they unmap it.",
            "With --stale, also remove this user's stale segments: those that should have gone with their last "
                + "holder, but whose holders all died.",
            "Every name is tried; the exit code is that of the first failure."})
final class RmCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "NAME", arity = "0..*", description = "The segments to remove.")
    private List<String> names = new ArrayList<>();

    @Option(names = "--stale", description = "Also remove this user's stale segments.")
    private boolean stale;

    @Option(names = {"-f", "--force"}, description = "Do not fail for names that do not exist.")
    private boolean force;

    /** Created by picocli. */
    RmCommand() {
    }

    @Override
    public Integer call() throws IOException {
        if (names.isEmpty() && !stale) {
            throw new ParameterException(spec.commandLine(), "give the names of the segments to remove, or --stale");
        }
        PrintWriter out = spec.commandLine().getOut();
        int exitCode = ExitCodes.OK;
        for (String name : names) {
            try {
                remove(name, out);
            } catch (IOException | IllegalArgumentException e) {
                Shm.report(spec.commandLine().getErr(), e);
                if (exitCode == ExitCodes.OK) {
                    exitCode = ExitCodes.forException(e);
                }
            }
        }
        if (stale) {
            List<String> reclaimed = SharedMemory.reclaimStale();
            for (String name : reclaimed) {
                out.println("removed stale \"" + name + "\"");
            }
            if (reclaimed.isEmpty()) {
                out.println("no stale segments");
            }
        }
        return exitCode;
    }

    private void remove(String name, PrintWriter out) throws IOException {
        Optional<SegmentInfo> before = SharedMemory.info(name);
        if (!SharedMemory.remove(name)) {
            if (force) {
                return;
            }
            throw new NoSuchFileException(name, null,
                    "no shared memory segment with this name (" + SharedMemory.osPath(name) + ")");
        }
        int holders = before.map(SegmentInfo::holders).orElse(0);
        out.println("removed \"" + name + "\"" + (holders == 0 ? ""
                : "; " + holders + (holders == 1 ? " process holds" : " processes hold")
                    + " it still and keep" + (holders == 1 ? "s" : "") + " its memory until closing it"));
    }
}
