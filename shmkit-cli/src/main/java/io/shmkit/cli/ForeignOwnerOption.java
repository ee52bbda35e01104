package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.SegmentOptions;
import picocli.CommandLine.Option;

/** The {@code --allow-foreign} option of the commands that open a segment. */
final class ForeignOwnerOption {

    @Option(names = "--allow-foreign", description = {
        "Open the segment even when another user owns it. Refused by default: its owner controls the memory "
            + "and can change it under you."})
    private boolean allowed;

    /**
     * The options to open a segment with.
     *
     * @param access how to open it
     * @return the default options with that access, and foreign owners allowed when asked for
     */
    SegmentOptions options(Access access) {
        SegmentOptions options = SegmentOptions.defaults().access(access);
        return allowed ? options.allowForeignOwner() : options;
    }
}
