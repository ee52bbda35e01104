package io.shmkit.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte counts as people write them on a command line ({@code 4096}, {@code 4K}, {@code 1M},
 * {@code 5G}, {@code 1T}; binary units, so {@code 1K} is 1024) and as {@code shm} prints them.
 */
final class ByteSizes {

    /** Digits, then optionally a unit letter (with an optional "B" or "iB") or a lone "B". */
    private static final Pattern SIZE = Pattern.compile("(\\d+)(?:([KMGT])(?:I?B)?|B)?");
    private static final String UNITS = "KMGT";
    private static final String HINT = "write a number of bytes, optionally with a suffix K, M, G or T "
            + "(powers of 1024), e.g. 4096, 4K, 1M, 5G";

    private ByteSizes() {
    }

    /**
     * Parses a byte count.
     *
     * @param text e.g. {@code 4K}; case does not matter
     * @return the number of bytes, 0 or more
     * @throws IllegalArgumentException saying what is wrong and how to write it
     */
    static long parse(String text) {
        Matcher m = SIZE.matcher(text.strip().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size \"" + text + "\": " + HINT);
        }
        int shift = m.group(2) == null ? 0 : 10 * (UNITS.indexOf(m.group(2)) + 1);
        try {
            long number = Long.parseLong(m.group(1));
            if (shift > 0 && number > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return number << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size \"" + text + "\": too large");
        }
    }

    /**
     * A byte count for people: {@code 512 B}, {@code 4 KiB}, {@code 1.5 MiB}.
     *
     * @param bytes 0 or more
     * @return the count in the largest binary unit it reaches, with one decimal unless exact
     */
    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        int unit = Math.min((63 - Long.numberOfLeadingZeros(bytes)) / 10, UNITS.length());
        long whole = bytes >> (10 * unit);
        String suffix = " " + UNITS.charAt(unit - 1) + "iB";
        if (whole << (10 * unit) == bytes) {
            return whole + suffix;
        }
        return String.format(Locale.ROOT, "%.1f%s", bytes / Math.pow(1024, unit), suffix);
    }

    /** Converts {@code --size} values: at least one byte. */
    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long size = convertOrExplain(value);
            if (size == 0) {
                throw new TypeConversionException("a segment must be at least 1 byte, not \"" + value + "\"");
            }
            return size;
        }
    }

    /** Converts offsets and lengths: 0 or more bytes. */
    static final class OffsetConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return convertOrExplain(value);
        }
    }

    private static long convertOrExplain(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
