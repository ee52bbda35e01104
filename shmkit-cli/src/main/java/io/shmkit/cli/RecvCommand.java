package io.shmkit.cli;

import io.shmkit.SharedMemory;
import io.shmkit.channel.Channel;
import io.shmkit.channel.ChannelConsumer;
import io.shmkit.channel.ChannelKind;
import io.shmkit.channel.MessageHandler;
import io.shmkit.cli.StdoutReader.StdoutClosed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

/**
 * {@code shm recv CHANNEL}: prints the messages of a channel as they arrive, creating the channel
 * when it does not exist yet. The reader of the classic tutorials, as a channel.
 */
@Command(name = "recv",
        description = {
            "Print the messages of CHANNEL as they arrive, one line each: the text of a UTF-8 message, or "
                + "<binary N bytes: HEX> for anything else (--json prints type, length and text or base64). "
                + "Runs until Ctrl-C, or until --count messages; --timeout ends it with exit code 6 when no "
                + "message comes in time.",
            "Either side may start first: when CHANNEL does not exist, recv creates it (many-to-one unless --kind "
                + "says otherwise), as a PERSISTENT channel that outlives it (`shm rm CHANNEL` removes it); with "
                + "--no-create it waits for it.",
            "One-to-one and many-to-one channels have one receiver at a time, which resumes where the last one "
                + "stopped: messages sent while no recv ran are kept (until the channel is full) and printed by the "
                + "next one, and none is printed twice. A message counts as received once it is printed.",
            "Publish-subscribe channels have any number of subscribers, each of which prints every message sent "
                + "after it joined. --subscriber NAME makes a named subscriber, which resumes where the last one of "
                + "that name stopped, as long as the messages it missed have not been overwritten."},
        footer = {"%nExamples:",
            "  shm recv prices                        # in one terminal",
            "  echo hello | shm send prices           # in another",
            "  shm recv prices --count 1 --timeout 5s --json"})
final class RecvCommand implements Callable<Integer> {

    /** Messages printed per poll; each is committed as soon as it is printed, whatever the batch. */
    private static final int BATCH = 256;
    /**
     * A wait for messages is cut in slices this long, to notice that the channel was removed, or that
     * nobody reads stdout any more.
     */
    private static final Duration WAIT_SLICE = Duration.ofMillis(200);

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CHANNEL", description = "The channel's name, e.g. prices.")
    private String name;

    @Option(names = {"-n", "--count"}, paramLabel = "N",
            description = "Exit (code 0) after N messages.")
    private Integer count;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "The longest wait for each message (and, with --no-create, for the channel to appear): "
                + "exit code 6 when it passes. Default: wait for ever.")
    private Duration timeout;

    @Option(names = "--subscriber", paramLabel = "NAME",
            description = "Publish-subscribe channels: subscribe under this name (up to 16 bytes), to resume where "
                + "the last subscriber of this name stopped. Default: an anonymous subscriber, from the next message.")
    private String subscriberName;

    @Mixin
    private JsonOption json;

    @Mixin
    private ChannelOpening opening;

    private PrintWriter out;
    private CleanShutdown shutdown;
    private int received;

    /** Created by picocli. */
    RecvCommand() {
    }

    @Override
    public Integer call() throws IOException, TimeoutException, InterruptedException {
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, not " + count);
        }
        if (subscriberName != null && opening.requestedKind() != null
                && opening.requestedKind() != ChannelKind.PUBLISH_SUBSCRIBE) {
            throw new ParameterException(spec.commandLine(), "--subscriber is for publish-subscribe channels, not "
                    + opening.requestedKind().label() + " ones");
        }
        out = spec.commandLine().getOut();
        // A named subscriber asks for a publish-subscribe channel: that is the kind to create for it.
        ChannelKind kindIfNew = subscriberName != null ? ChannelKind.PUBLISH_SUBSCRIBE : ChannelOpening.DEFAULT_KIND;
        // Ctrl-C leaves the consumer closed, not asleep with its count in "consumers waiting".
        try (CleanShutdown stopping = new CleanShutdown();
             Channel channel = opening.openOrCreate(name, timeout, kindIfNew); ChannelConsumer in = join(channel)) {
            shutdown = stopping;
            if (Shm.interactive()) {
                spec.commandLine().getErr().println("recv: printing the messages of \"" + name + "\" ("
                        + channel.kind().label() + ") as they arrive; Ctrl-C ends");
            }
            if (in.lostBytes() > 0) {
                spec.commandLine().getErr().println("recv: subscriber \"" + subscriberName + "\" missed "
                        + in.lostBytes() + " bytes of messages, overwritten while it was away");
            }
            return receive(in);
        }
    }

    private ChannelConsumer join(Channel channel) {
        if (channel.kind() != ChannelKind.PUBLISH_SUBSCRIBE) {
            if (subscriberName != null) {
                throw new IllegalArgumentException("--subscriber is for publish-subscribe channels; \"" + name
                        + "\" is " + channel.kind().label());
            }
            try {
                return channel.consumer();
            } catch (IllegalStateException busy) {
                throw new IllegalStateException(busy.getMessage() + "; a " + channel.kind().label() + " channel has "
                        + "one receiver at a time (a publish-subscribe one has many)", busy);
            }
        }
        return channel.subscriber(subscriberName);
    }

    private int receive(ChannelConsumer in) throws IOException, TimeoutException, InterruptedException {
        // Printed inside the handler: the consumer commits a message only when its handler returns,
        // so a recv killed mid-way loses nothing it did not print.
        MessageHandler printer = message -> print(message.typeId(), message.bytes());
        try {
            while (count == null || received < count) {
                int limit = count == null ? BATCH : Math.min(BATCH, count - received);
                shutdown.check();
                if (in.poll(printer, limit) == 0) {
                    awaitMessage(in);
                }
            }
        } catch (StdoutClosed e) {
            // The reading end of the pipe went away (`shm recv x | head -1`): nothing to print to. The
            // message that could not be printed stays in the channel for the next receiver.
            return ExitCodes.OK;
        }
        return ExitCodes.OK;
    }

    private void print(int type, byte[] payload) {
        out.println(json.enabled() ? Json.write(Payloads.json(type, payload)) : Payloads.line(payload));
        StdoutReader.check(out);
        received++;
    }

    /**
     * Waits for the next message, in slices, checking between them that the channel still exists
     * and that stdout still has a reader.
     */
    private void awaitMessage(ChannelConsumer in) throws IOException, TimeoutException, InterruptedException {
        long start = System.nanoTime();
        long limit = timeout == null ? Long.MAX_VALUE : Durations.saturatedNanos(timeout);
        while (true) {
            long left = limit - (System.nanoTime() - start);
            if (left <= 0) {
                throw new TimeoutException("no message on \"" + name + "\" within " + Durations.format(timeout)
                        + " (--timeout)" + (count == null ? "" : ", after " + received + " of " + count));
            }
            if (in.awaitMessages(Duration.ofNanos(Math.min(left, WAIT_SLICE.toNanos())))) {
                return;
            }
            shutdown.check();
            if (!SharedMemory.exists(name)) {
                // Removed (`shm rm`): our mapping still works, but no sender can find this channel any more.
                throw new NoSuchFileException(null, null, "channel \"" + name + "\" was removed while recv waited"
                        + (count == null ? "" : ", after " + received + " of " + count + " messages"));
            }
            if (StdoutReader.gone()) {
                // `shm recv x | head -1` once head has its line: end now, not at the next message.
                throw new StdoutClosed();
            }
        }
    }
}
