package io.shmkit.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as every {@code shm} option writes them: a whole number and a unit, {@code 500ms},
 * {@code 15s}, {@code 2m}, {@code 1h}. A unit is required, because a bare {@code 5} could mean
 * seconds or milliseconds.
 */
final class Durations {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final String HINT = "write a whole number and a unit (ms, s, m or h), e.g. 500ms, 15s, 2m";

    private Durations() {
    }

    /**
     * Parses a duration.
     *
     * @param text e.g. {@code 500ms}
     * @return the duration, more than zero
     * @throws IllegalArgumentException saying what is wrong and how to write it
     */
    static Duration parse(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\": " + HINT);
        }
        Duration d;
        try {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\": too long");
        }
        if (d.isZero()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\": it must be more than zero");
        }
        return d;
    }

    /**
     * A duration in the unit it was most likely written in: {@code 500ms}, {@code 15s}, {@code 2m}.
     *
     * @param d the duration
     * @return the text {@link #parse} reads back as the same duration, where it is a whole number of milliseconds
     */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0 && ms > 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /**
     * A duration in nanoseconds, for deadlines: durations too long for a long are as good as for ever.
     *
     * @param d the duration
     * @return its nanoseconds, or {@link Long#MAX_VALUE} when there are more
     */
    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** Converts duration options. */
    static final class Converter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
