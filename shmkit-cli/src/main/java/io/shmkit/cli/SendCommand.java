package io.shmkit.cli;

import io.shmkit.channel.Channel;
import io.shmkit.channel.ChannelKind;
import io.shmkit.channel.ChannelProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

/**
 * {@code shm send CHANNEL [TEXT...]}: sends each line of stdin (or each TEXT) as a message into a
 * channel, creating the channel when it does not exist yet. The writer of the classic tutorials,
 * as a channel: nothing a receiver has not read yet is ever overwritten.
 */
@Command(name = "send",
        description = {
            "Send each line of stdin, or each TEXT, as one message into CHANNEL: the line's bytes as they are "
                + "(UTF-8 text, normally), without the line end, with type id --type. Ends at the end of input "
                + "(Ctrl-D) with exit code 0; prints nothing unless --verbose.",
            "Either side may start first: when CHANNEL does not exist, send creates it (many-to-one unless --kind "
                + "says otherwise, so several senders can feed one `shm recv`); with --no-create it waits for it.",
            "Channels made by shm are PERSISTENT: they, and the messages not yet received, outlive this command; "
                + "a `shm recv CHANNEL` started later gets them. `shm rm CHANNEL` removes a channel.",
            "When the channel is full (its receiver is slow, or none runs), send waits for space, for ever or up "
                + "to --timeout. A publish-subscribe channel waits only for live subscribers: with none, messages "
                + "go to nobody."},
        footer = {"%nExamples:",
            "  echo hello | shm send prices",
            "  shm send prices one two three           # three messages",
            "  tail -f app.log | shm send logs --kind publish-subscribe"})
final class SendCommand implements Callable<Integer> {

    /** A full channel is waited on in slices this long when there is no --timeout, so none overflows. */
    private static final Duration FOREVER_SLICE = Duration.ofMinutes(1);

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CHANNEL", description = "The channel's name, e.g. prices.")
    private String name;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "TEXT",
            description = "Messages to send, one per argument; stdin is read when there are none.")
    private List<String> texts = new ArrayList<>();

    @Option(names = "--type", paramLabel = "N", defaultValue = "0",
            description = "The type id of the messages, 0 or more. Default: ${DEFAULT-VALUE}.")
    private int type;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "The longest wait for space in a full channel (and, with --no-create, for the channel "
                + "to appear): exit code 6 when it passes. Default: wait for ever.")
    private Duration timeout;

    @Option(names = {"-v", "--verbose"}, description = "Say on stderr where the messages go, and how many went.")
    private boolean verbose;

    @Mixin
    private ChannelOpening opening;

    private long sent;

    /** Created by picocli. */
    SendCommand() {
    }

    @Override
    public Integer call() throws IOException, TimeoutException, InterruptedException {
        if (type < 0) {
            throw new IllegalArgumentException("--type must be 0 or more, not " + type);
        }
        PrintWriter err = spec.commandLine().getErr();
        try (Channel channel = opening.openOrCreate(name, timeout, ChannelOpening.DEFAULT_KIND);
             ChannelProducer producer = join(channel)) {
            if (verbose) {
                err.println("send: sending to \"" + name + "\" (" + channel.kind().label() + ", "
                        + ByteSizes.human(channel.capacity()) + " ring, messages up to " + channel.maxMessageLength()
                        + " bytes)");
            }
            if (!texts.isEmpty()) {
                for (String text : texts) {
                    send(producer, text.getBytes(StandardCharsets.UTF_8));
                }
            } else {
                if (Shm.interactive()) {
                    err.println("send: each line you type is a message to \"" + name + "\"; Ctrl-D ends");
                }
                sendLines(System.in, producer);
            }
        }
        if (verbose) {
            err.println("send: sent " + sent + (sent == 1 ? " message" : " messages") + " to \"" + name + "\"");
        }
        return ExitCodes.OK;
    }

    private ChannelProducer join(Channel channel) {
        try {
            return channel.producer();
        } catch (IllegalStateException busy) {
            String hint = channel.kind() == ChannelKind.MANY_TO_ONE ? ""
                    : "; a " + channel.kind().label() + " channel has one sender at a time (make a many-to-one one "
                        + "for several: `shm rm " + name + "`, then `shm send " + name + " --kind many-to-one`)";
            throw new IllegalStateException(busy.getMessage() + hint, busy);
        }
    }

    /**
     * Sends each line as it arrives: {@code read} returns what is there, so a line typed at a
     * terminal, or written by a program that flushes, goes out at once. The bytes are sent as they
     * are (not decoded), so any text, in any encoding, arrives unchanged.
     */
    private void sendLines(InputStream in, ChannelProducer producer) throws IOException, TimeoutException,
            InterruptedException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (buffer[i] == '\n') {
                    line.write(buffer, start, i - start);
                    send(producer, withoutCarriageReturn(line.toByteArray()));
                    line.reset();
                    start = i + 1;
                }
            }
            line.write(buffer, start, n - start);
            if (line.size() > producer.maxMessageLength() + 1) {
                // Fail now rather than buffer a huge line that cannot be sent anyway.
                throw tooLong("more than " + producer.maxMessageLength(), producer);
            }
        }
        if (line.size() > 0) {
            // The last line may lack its newline: it is a message all the same.
            send(producer, withoutCarriageReturn(line.toByteArray()));
        }
    }

    /** A line ended by CRLF (a file from Windows) is the text before the CR. */
    private static byte[] withoutCarriageReturn(byte[] line) {
        if (line.length > 0 && line[line.length - 1] == '\r') {
            return Arrays.copyOf(line, line.length - 1);
        }
        return line;
    }

    private void send(ChannelProducer producer, byte[] payload) throws TimeoutException, InterruptedException {
        if (payload.length > producer.maxMessageLength()) {
            throw tooLong(String.valueOf(payload.length), producer);
        }
        if (timeout == null) {
            while (!producer.send(type, payload, FOREVER_SLICE)) {
                // Still full: keep waiting, as a pipe's writer does.
            }
        } else if (!producer.send(type, payload, timeout)) {
            throw new TimeoutException("channel \"" + name + "\" stayed full for " + Durations.format(timeout)
                    + " (--timeout), after " + sent + (sent == 1 ? " message" : " messages")
                    + ": is its receiver running? (`shm stat " + name + "` shows it)");
        }
        sent++;
    }

    private IllegalArgumentException tooLong(String length, ChannelProducer producer) {
        return new IllegalArgumentException("message " + (sent + 1) + " is " + length + " bytes; channel \"" + name
                + "\" takes messages up to " + producer.maxMessageLength() + " bytes (an eighth of its capacity: "
                + "see --capacity), so it was not sent, nor anything after it");
    }
}
