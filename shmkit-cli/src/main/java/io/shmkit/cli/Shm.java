package io.shmkit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * The {@code shm} command: create, inspect, read, write and remove named shared memory segments,
 * run the classic writer/reader pair, send and receive messages through channels, or take the tour.
 * Each subcommand is a class of this package.
 *
 * <p>Errors are printed as one line, {@code shm: <message>}, and end the process with one of the
 * {@link ExitCodes}; {@code SHMKIT_DEBUG=1} adds the stack trace.
 */
@Command(name = "shm",
        scope = CommandLine.ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = Shm.Version.class,
        usageHelpAutoWidth = true,
        description = {
            "Named shared memory from the shell: segments that processes open by name, like Win32's "
                + "CreateFileMapping/OpenFileMapping, or shm_open in C; named mutexes and events to synchronize "
                + "scripts and programs (lock, event); and message channels in segments (send, recv, stat).",
            "New here? Run `shm tour`: two processes pass messages both ways through a segment."},
        subcommands = {
            TourCommand.class, CreateCommand.class, WriteCommand.class, ReadCommand.class, LsCommand.class,
            InfoCommand.class, RmCommand.class, WriterCommand.class, ReaderCommand.class, LockCommand.class,
            EventCommand.class, SendCommand.class, RecvCommand.class, StatCommand.class, TourPeerCommand.class,
            CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            ExitCodes.OK + ":success",
            ExitCodes.FAILURE + ":other failure",
            ExitCodes.USAGE + ":usage error: bad option, size, duration or name",
            ExitCodes.NOT_FOUND + ":no such segment",
            ExitCodes.ALREADY_EXISTS + ":a segment of that name already exists",
            ExitCodes.PERMISSION_DENIED + ":permission denied, or owned by another user (see --allow-foreign)",
            ExitCodes.TIMED_OUT + ":timed out",
            "130:ended by Ctrl-C (143: by SIGTERM), having left what it joined; no message"},
        footer = {
            "%nErrors go to stderr as one line: shm: <message>. Set SHMKIT_DEBUG=1 for stack traces.",
            "A command that prints as it goes (recv, reader --follow, stat --watch) ends with 0 as soon as nobody "
                + "reads its output any more (`shm recv prices | head -1`).",
            "Sizes are written like 4096, 4K, 1M, 5G (powers of 1024); durations like 500ms, 15s, 2m."})
public final class Shm implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    /** Created by picocli. */
    public Shm() {
    }

    /**
     * Runs {@code shm} and exits with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs {@code shm} in this process.
     *
     * @param args the command line
     * @return the exit code, one of {@link ExitCodes}
     */
    public static int run(String... args) {
        CommandLine cli = commandLine();
        try {
            String charset = System.getProperty("sun.jnu.encoding", "UTF-8");
            if (!charset.equalsIgnoreCase("UTF-8")
                    && java.util.Arrays.stream(args).anyMatch(a -> a.indexOf('\uFFFD') >= 0)) {
                // The JVM decoded the command line with the locale's charset (ASCII in the POSIX
                // locale): the bytes it could not decode are lost, and a name made of what is left
                // would be another name.
                cli.getErr().println("shm: the command line has characters that this locale's charset (" + charset
                        + ") cannot decode, so names and texts would arrive garbled; run shm in a UTF-8 locale,"
                        + " e.g. LC_ALL=C.UTF-8");
                return ExitCodes.USAGE;
            }
            return cli.execute(args);
        } finally {
            cli.getOut().flush();
            cli.getErr().flush();
        }
    }

    /**
     * The configured command line: UTF-8 output (messages in segments are UTF-8, whatever the
     * locale), one-line errors and the exit codes of {@link ExitCodes}.
     *
     * @return a new command line for one run
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Shm());
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        cli.setExitCodeExceptionMapper(ExitCodes::forException);
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine failed = e.getCommandLine();
            failed.getErr().println("shm: " + oneLine(e.getMessage()) + " (see `"
                    + failed.getCommandSpec().qualifiedName() + " --help`)");
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((e, failed, parseResult) -> {
            if (e instanceof StdoutReader.StdoutClosed) {
                // Nobody reads the output any more (`shm reader x --follow | head -1`): done, as asked.
                return ExitCodes.OK;
            }
            if (e instanceof CleanShutdown.Requested) {
                // The JVM is exiting with the signal's code (130, 143): this code is never seen.
                return ExitCodes.FAILURE;
            }
            report(failed.getErr(), e);
            return failed.getExitCodeExceptionMapper().getExitCode(e);
        });
        return cli;
    }

    /**
     * Prints a failure as {@code shm: <message>}, with the stack trace when {@code SHMKIT_DEBUG=1}.
     *
     * @param err where errors go
     * @param failure what went wrong
     */
    static void report(PrintWriter err, Throwable failure) {
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            message = failure.getClass().getSimpleName() + " (SHMKIT_DEBUG=1 shows where)";
        }
        err.println("shm: " + oneLine(message));
        if ("1".equals(System.getenv("SHMKIT_DEBUG"))) {
            failure.printStackTrace(err);
        }
        err.flush();
    }

    private static String oneLine(String message) {
        return message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /**
     * Whether a person is at the keyboard, so prompts and hints make sense.
     *
     * @return true when stdin and stdout are a terminal
     */
    static boolean interactive() {
        return System.console() != null && System.console().isTerminal();
    }

    /**
     * Without a subcommand there is nothing to do: a usage error that points at the tour.
     *
     * @return never returns normally
     */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "no command given; new here? try `shm tour`");
    }

    /** The version, from the build. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            try (InputStream in = Shm.class.getResourceAsStream("version.txt")) {
                if (in == null) {
                    return new String[] {"shmkit (unknown version)"};
                }
                return new String[] {new String(in.readAllBytes(), StandardCharsets.UTF_8).strip()};
            }
        }
    }
}
