package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Lifetime;
import io.shmkit.SegmentOptions;
import io.shmkit.SharedEvent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

/**
 * {@code shm event NAME set|reset|wait}: a named Win32-style event from the shell, so that scripts
 * and programs (Java, C) can signal each other.
 */
@Command(name = "event",
        description = {
            "Set, reset or wait for the named event NAME (created if missing, unset): `shm event NAME wait` in one "
                + "shell returns as soon as `shm event NAME set` runs in another, or a program sets it "
                + "(SharedEvent in Java, or C through its documented layout). No polling: the waiter sleeps in the "
                + "kernel until woken.",
            "A manual-reset event (the default) stays set, releasing every waiter, until `reset`; an auto-reset one "
                + "(--auto, when it is created) releases one waiter per set and resets itself.",
            "The event is persistent: it stays until `shm rm NAME`. `shm info NAME` shows whether it is set."},
        footer = {"%nExit codes of wait: 0 when the event was set, 6 when --timeout ran out."})
final class EventCommand implements Callable<Integer> {

    /** A wait is cut in slices this long, to notice Ctrl-C between them. */
    private static final Duration WAIT_SLICE = Duration.ofMillis(200);

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The event, e.g. build-done (/dev/shm/NAME).")
    private String name;

    @Parameters(index = "1", paramLabel = "ACTION", description = "set, reset or wait.")
    private String action;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "With wait: give up after this long (e.g. 500ms, 15s, 2m), with exit code 6. "
                + "Default: wait as long as it takes.")
    private Duration timeout;

    @Option(names = "--auto", description = "Create the event auto-reset if it is missing (default: manual reset).")
    private boolean auto;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", converter = Permissions.class,
            description = "Permission bits in octal if the event is created; others need 606 to use it. "
                + "Default: ${DEFAULT-VALUE}.")
    private int mode;

    @Mixin
    private ForeignOwnerOption foreign;

    @Mixin
    private JsonOption json;

    /** Created by picocli. */
    EventCommand() {
    }

    @Override
    public Integer call() throws IOException, TimeoutException, InterruptedException {
        if (!action.equals("set") && !action.equals("reset") && !action.equals("wait")) {
            throw new ParameterException(spec.commandLine(), "unknown action \"" + action
                    + "\": give set, reset or wait");
        }
        if (timeout != null && !action.equals("wait")) {
            throw new ParameterException(spec.commandLine(), "--timeout goes with wait");
        }
        SegmentOptions options = foreign.options(Access.READ_WRITE).permissions(mode).lifetime(Lifetime.PERSISTENT);
        // Ctrl-C during a wait leaves no waiter counted in the event.
        try (CleanShutdown shutdown = new CleanShutdown();
             SharedEvent event = SharedEvent.openOrCreate(name, !auto, options)) {
            if (auto && !event.wasCreated() && event.isManualReset()) {
                spec.commandLine().getErr().println("shm event: \"" + name + "\" exists as a manual-reset event; "
                        + "--auto applies only when creating one");
            }
            long start = System.nanoTime();
            switch (action) {
                case "set" -> event.set();
                case "reset" -> event.reset();
                default -> await(event, shutdown);
            }
            report(event, (System.nanoTime() - start) / 1_000_000);
        }
        return ExitCodes.OK;
    }

    /** Waits in slices, to notice Ctrl-C between them; a slice that returns true took the set. */
    private void await(SharedEvent event, CleanShutdown shutdown) throws TimeoutException, InterruptedException {
        long limit = timeout == null ? Long.MAX_VALUE : Durations.saturatedNanos(timeout);
        long start = System.nanoTime();
        while (true) {
            long left = Math.max(0, limit - (System.nanoTime() - start));
            if (event.await(Duration.ofNanos(Math.min(left, WAIT_SLICE.toNanos())))) {
                return;
            }
            if (left <= WAIT_SLICE.toNanos()) {
                throw new TimeoutException("event \"" + name + "\" was not set within " + Durations.format(timeout)
                        + " (--timeout)");
            }
            shutdown.check();
        }
    }

    private void report(SharedEvent event, long waitedMillis) {
        PrintWriter out = spec.commandLine().getOut();
        String mode = event.isManualReset() ? "manual reset" : "auto reset";
        if (json.enabled()) {
            Map<String, Object> o = Json.object();
            o.put("name", name);
            o.put("action", action);
            o.put("manualReset", event.isManualReset());
            o.put("set", event.isSet());
            if (action.equals("wait")) {
                o.put("waitedMs", waitedMillis);
            }
            out.println(Json.write(o));
            return;
        }
        out.println(switch (action) {
            case "set" -> "set \"" + name + "\" (" + mode + ")";
            case "reset" -> "reset \"" + name + "\" (" + mode + ")";
            default -> "\"" + name + "\" is set (" + mode + (event.isManualReset() ? "" : ": this wait reset it")
                    + "; waited " + waitedMillis + " ms)";
        });
    }
}
