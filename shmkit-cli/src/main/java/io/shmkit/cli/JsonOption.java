package io.shmkit.cli;

import picocli.CommandLine.Option;

/** The {@code --json} option, shared by the commands whose output is data. */
final class JsonOption {

    @Option(names = "--json", description = "Print JSON for scripts instead of text.")
    private boolean enabled;

    /** @return true when {@code --json} was given */
    boolean enabled() {
        return enabled;
    }
}
