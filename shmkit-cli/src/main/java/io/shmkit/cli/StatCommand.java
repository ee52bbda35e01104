package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.channel.Channel;
import io.shmkit.channel.ChannelKind;
import io.shmkit.channel.ChannelOptions;
import io.shmkit.channel.ChannelStats;
import io.shmkit.channel.ChannelStats.Participant;
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
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code shm stat CHANNEL [--watch]}: a channel's capacity, positions, lag, rates and participants,
 * once or refreshed in place.
 */
@Command(name = "stat",
        description = {
            "Show a channel: kind, capacity, tail position (bytes written since it was created), messages sent, "
                + "message and byte rates, and every participant (sender, receiver, subscriber): its state, pid, "
                + "whether that process still runs, its last heartbeat, position, lag (bytes sent it has not "
                + "received yet) and message count.",
            "Rates are measured between two looks at the channel: 200ms apart for a single stat (--interval "
                + "changes it), and between refreshes with --watch.",
            "--watch refreshes the view every --interval (1s by default) until Ctrl-C or --count refreshes: in "
                + "place on a terminal, as successive blocks (or JSON lines) otherwise.",
            "Looking joins nothing: stat opens the channel read-only and does not change it, so permission to "
                + "read it is enough (another user's needs --allow-foreign too)."},
        footer = {"%nExamples:",
            "  shm stat prices",
            "  shm stat prices --watch",
            "  shm stat prices --json | jq .participants"})
final class StatCommand implements Callable<Integer> {

    /** A single stat measures rates over this long; so does the first refresh of --watch, to show up soon. */
    private static final Duration SHORT_SAMPLE = Duration.ofMillis(200);
    private static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);
    /** Cursor home: each view is written over the last one, which is less jumpy than clearing first. */
    private static final String HOME = "\033[H";
    /** Clears the rest of a line, or (at the end of the view) the rest of the screen, of the view before. */
    private static final String CLEAR_LINE_END = "\033[K";
    private static final String CLEAR_SCREEN_END = "\033[J";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT)
            .withZone(ZoneId.systemDefault());

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CHANNEL", description = "The channel's name, e.g. prices.")
    private String name;

    @Option(names = {"-w", "--watch"}, description = "Refresh the view until Ctrl-C (or --count refreshes).")
    private boolean watch;

    @Option(names = "--interval", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "The time between refreshes with --watch (default 1s), or between the two looks of a "
                + "single stat (default 200ms).")
    private Duration interval;

    @Option(names = {"-n", "--count"}, paramLabel = "N", description = "With --watch: stop after N refreshes.")
    private Integer count;

    @Option(names = {"-a", "--all"}, description = "List the senders and anonymous subscribers that left too (--json "
            + "always lists every participant).")
    private boolean all;

    @Mixin
    private JsonOption json;

    @Mixin
    private ForeignOwnerOption foreign;

    /** Created by picocli. */
    StatCommand() {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (count != null && !watch) {
            throw new ParameterException(spec.commandLine(), "--count goes with --watch");
        }
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1, not " + count);
        }
        Sample previous = sample();
        if (!watch) {
            Thread.sleep(interval != null ? interval : SHORT_SAMPLE);
            print(previous, sample(), false);
            return ExitCodes.OK;
        }
        Duration every = interval != null ? interval : WATCH_INTERVAL;
        boolean inPlace = !json.enabled() && Shm.interactive();
        for (int refresh = 0; count == null || refresh < count; refresh++) {
            // Ends early, with exit code 0, when nobody reads the output any more (`... | head`).
            StdoutReader.sleepUnlessGone(refresh == 0 && every.compareTo(SHORT_SAMPLE) > 0 ? SHORT_SAMPLE : every);
            Sample current = sample();
            if (!inPlace && refresh > 0 && !json.enabled()) {
                spec.commandLine().getOut().println();
            }
            print(previous, current, inPlace);
            previous = current;
        }
        return ExitCodes.OK;
    }

    /** One look at the channel. It is opened afresh each time, so that a removed or recreated channel shows. */
    private Sample sample() throws IOException {
        // Read-only: looking joins nothing, so a user who may only read the channel can look at it too.
        ChannelOptions options = ChannelOptions.defaults().segmentOptions(foreign.options(Access.READ_ONLY));
        try (Channel channel = Channel.open(name, options)) {
            return new Sample(System.nanoTime(), System.currentTimeMillis(), channel.stats());
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(null, null, "no channel \"" + name + "\": `shm send " + name
                    + "` or `shm recv " + name + "` creates one");
        }
    }

    private void print(Sample previous, Sample current, boolean inPlace) {
        Rates rates = Rates.between(previous, current);
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            out.println(Json.write(json(current, rates)));
        } else if (inPlace) {
            out.print(HOME + text(current, rates, true).replace("\n", CLEAR_LINE_END + "\n") + CLEAR_SCREEN_END);
        } else {
            out.print(text(current, rates, false));
        }
        StdoutReader.check(out);
    }

    private Map<String, Object> json(Sample sample, Rates rates) {
        ChannelStats s = sample.stats();
        Map<String, Object> o = Json.object();
        o.put("name", s.name());
        o.put("kind", s.kind().label());
        o.put("capacity", s.capacity());
        o.put("maxMessageLength", s.maxMessageLength());
        o.put("createdMillis", s.createdMillis());
        o.put("sampledMillis", sample.millis());
        o.put("tail", s.tail());
        o.put("messagesProduced", s.messagesProduced());
        o.put("lag", lag(s));
        o.put("rateIntervalMillis", rates == null ? null : rates.nanos() / 1_000_000);
        o.put("messageRate", rates == null ? null : rounded(rates.messages()));
        o.put("byteRate", rates == null ? null : rounded(rates.bytes()));
        List<Object> participants = new ArrayList<>();
        for (Participant p : s.participants()) {
            boolean producer = p.role().equals("producer");
            Map<String, Object> po = Json.object();
            po.put("role", p.role());
            po.put("slot", p.slot());
            po.put("state", p.state());
            po.put("pid", p.pid());
            po.put("alive", p.alive());
            po.put("heartbeatMillis", p.heartbeatMillis());
            po.put("heartbeatAgeMillis", Math.max(0, since(sample.millis(), p.heartbeatMillis())));
            po.put("position", producer ? null : p.position());
            po.put("lag", producer ? null : p.lag());
            po.put("messages", p.messages());
            Double rate = rates == null ? null : rates.of(p);
            po.put("messageRate", rate == null ? null : rounded(rate));
            po.put("subscriberName", p.subscriberName().isEmpty() ? null : p.subscriberName());
            participants.add(po);
        }
        o.put("participants", participants);
        return o;
    }

    private String text(Sample sample, Rates rates, boolean inPlace) {
        ChannelStats s = sample.stats();
        StringBuilder b = new StringBuilder();
        if (inPlace) {
            b.append("shm stat ").append(name).append(": every ").append(Durations.format(interval != null ? interval
                    : WATCH_INTERVAL)).append(", Ctrl-C ends. ").append(TIME.format(Instant.ofEpochMilli(
                    sample.millis()))).append("\n\n");
        }
        b.append("channel:       ").append(s.name()).append(" (").append(s.kind().label()).append(")\n");
        b.append("capacity:      ").append(ByteSizes.human(s.capacity())).append(" ring, messages up to ")
                .append(s.maxMessageLength()).append(" bytes\n");
        b.append("created:       ").append(TIME.format(Instant.ofEpochMilli(s.createdMillis()))).append(" (")
                .append(age(since(sample.millis(), s.createdMillis()))).append(")\n");
        b.append("tail:          ").append(s.tail()).append(" (bytes written, record headers included)\n");
        b.append("messages:      ").append(s.messagesProduced()).append(" sent\n");
        b.append("rates:         ");
        if (rates == null) {
            b.append("- (the channel was recreated between two looks)\n");
        } else {
            b.append(rate(rates.messages())).append(" msg/s, ").append(ByteSizes.human(Math.round(rates.bytes())))
                    .append("/s (over ").append(Durations.format(Duration.ofMillis(rates.nanos() / 1_000_000)))
                    .append(")\n");
        }
        long lag = lag(s);
        b.append("lag:           ").append(lag).append(" bytes (").append(percent(lag, s.capacity()))
                .append(" of the ring) ").append(s.kind() == ChannelKind.PUBLISH_SUBSCRIBE
                        ? "behind the slowest live subscriber\n" : "sent and not received yet\n");
        List<Participant> participants = s.participants().stream().filter(p -> all || !past(p)).toList();
        int hidden = s.participants().size() - participants.size();
        b.append("participants:  ").append(s.participants().isEmpty() ? "none yet" : participants.size() + " shown")
                .append(hidden == 0 ? "" : ", and " + hidden + " that left (--all shows them)").append('\n');
        if (!participants.isEmpty()) {
            b.append(String.format(Locale.ROOT, "  %-10s %4s %-8s %8s %-5s %9s %12s %10s %10s %9s  %s%n",
                    "ROLE", "SLOT", "STATE", "PID", "ALIVE", "HEARTBEAT", "POSITION", "LAG", "MESSAGES", "MSG/S",
                    "NAME"));
            for (Participant p : participants) {
                boolean producer = p.role().equals("producer");
                Double r = rates == null ? null : rates.of(p);
                b.append(String.format(Locale.ROOT, "  %-10s %4d %-8s %8d %-5s %9s %12s %10s %10d %9s  %s%n",
                        p.role(), p.slot(), p.state(), p.pid(), p.alive() ? "yes" : "no",
                        age(since(sample.millis(), p.heartbeatMillis())), producer ? "-" : String.valueOf(p.position()),
                        producer ? "-" : String.valueOf(p.lag()), p.messages(), r == null ? "-" : rate(r),
                        printable(p.subscriberName())));
            }
        }
        return b.toString();
    }

    /**
     * How far behind the receiving side is, in bytes. One-to-one and many-to-one: what the receiver
     * has not taken yet, whether or not one runs (its position stays in the channel, and the next
     * one resumes there). Publish-subscribe: the lag of the slowest live subscriber, the one that
     * holds the sender back.
     */
    private static long lag(ChannelStats s) {
        if (s.kind() == ChannelKind.PUBLISH_SUBSCRIBE) {
            return s.maxLag();
        }
        // A consumer slot never used is not listed; its position is still 0.
        return s.participants().stream().filter(p -> p.role().equals("consumer")).mapToLong(Participant::lag)
                .findFirst().orElse(s.tail());
    }

    /**
     * A slot whose participant left and that nobody comes back to: each {@code shm send} takes a
     * producer slot of its own (64 in a many-to-one channel), so a channel in use for a while has
     * many of these, which would bury the live ones. A consumer's slot always counts (the next
     * consumer resumes at its position), and so does a named subscriber's.
     */
    private static boolean past(Participant p) {
        boolean left = p.state().equals("closed") || p.state().equals("dead");
        return left && (p.role().equals("producer") || p.role().equals("subscriber") && p.subscriberName().isEmpty());
    }

    /**
     * A subscriber name as the table shows it: any name is accepted (1 to 16 bytes of UTF-8), and
     * the slot's bytes may be anything, so control characters are escaped as in a Java string
     * literal (a newline as {@code \n}, ESC by its code): a newline would split the table, and
     * escape sequences would drive the terminal. {@code --json} escapes them as JSON does.
     */
    static String printable(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                b.append("\\\\");
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 || c == '\u2028' || c == '\u2029') {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Rates to a thousandth: more digits would be noise. */
    private static double rounded(double perSecond) {
        return Math.round(perSecond * 1000) / 1000.0;
    }

    private static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%.1f", perSecond);
    }

    private static String percent(long part, long whole) {
        return String.format(Locale.ROOT, "%.0f%%", 100.0 * part / whole);
    }

    /**
     * The milliseconds from {@code then} to {@code now}, saturated: times are read from the segment,
     * where any value may stand, and a difference that overflows must not pass for a recent one.
     */
    static long since(long now, long then) {
        long d = now - then;
        if (((now ^ then) & (now ^ d)) < 0) {
            return then < now ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        return d;
    }

    /**
     * How long ago, in the largest unit that reads well: {@code 0.2s ago}, {@code 42s ago}, {@code 3m ago};
     * {@code in future} for a time more than a second ahead (written so, or the clock was set back), which
     * must not read as a fresh heartbeat.
     */
    static String age(long millis) {
        if (millis < -1000) {
            return "in future";
        }
        long ms = Math.max(0, millis);
        if (ms < 10_000) {
            return String.format(Locale.ROOT, "%.1fs ago", ms / 1000.0);
        }
        if (ms < 120_000) {
            return ms / 1000 + "s ago";
        }
        if (ms < 2 * 3_600_000) {
            return ms / 60_000 + "m ago";
        }
        if (ms < 2 * 86_400_000L) {
            return ms / 3_600_000 + "h ago";
        }
        return ms / 86_400_000L + "d ago";
    }

    /**
     * One look at the channel.
     *
     * @param nanos when, for rates ({@link System#nanoTime()})
     * @param millis when, for ages (ms since the epoch, as heartbeats are)
     * @param stats what was seen
     */
    private record Sample(long nanos, long millis, ChannelStats stats) {
    }

    /**
     * Rates between two looks.
     *
     * @param nanos the time between them
     * @param messages messages sent per second
     * @param bytes bytes written to the ring per second
     * @param previous the earlier look, for per-participant rates
     */
    private record Rates(long nanos, double messages, double bytes, ChannelStats previous) {

        /** Null when the two looks saw different channels (removed and created again in between). */
        static Rates between(Sample a, Sample b) {
            if (a.stats().createdMillis() != b.stats().createdMillis() || b.stats().tail() < a.stats().tail()) {
                return null;
            }
            long nanos = Math.max(1, b.nanos() - a.nanos());
            double seconds = nanos / 1e9;
            return new Rates(nanos, Math.max(0, b.stats().messagesProduced() - a.stats().messagesProduced()) / seconds,
                    (b.stats().tail() - a.stats().tail()) / seconds, a.stats());
        }

        /** A participant's messages per second; null when its slot changed hands between the looks. */
        Double of(Participant p) {
            for (Participant before : previous.participants()) {
                if (before.role().equals(p.role()) && before.slot() == p.slot() && before.pid() == p.pid()
                        && before.messages() <= p.messages()) {
                    return (p.messages() - before.messages()) / (nanos / 1e9);
                }
            }
            return null;
        }
    }
}
