package io.shmkit.cli;

import io.shmkit.Access;
import io.shmkit.Lifetime;
import io.shmkit.SegmentOptions;
import io.shmkit.channel.Channel;
import io.shmkit.channel.ChannelKind;
import io.shmkit.channel.ChannelOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * How {@code shm send} and {@code shm recv} find their channel: open it when it exists, else create
 * it, so that either side may start first. Both sides create a channel the same way (a persistent
 * segment of the default kind and capacity), so whichever comes first, the other finds what it
 * expects; {@code --no-create} makes a side wait for the other instead.
 */
final class ChannelOpening {

    /**
     * The kind a new channel gets unless {@code --kind} says otherwise: several {@code shm send}s
     * from several terminals into one {@code shm recv} is the natural use of the command line, and
     * many-to-one allows it (one-to-one would refuse the second sender).
     */
    static final ChannelKind DEFAULT_KIND = ChannelKind.MANY_TO_ONE;

    /** The longest pause between two looks for a channel that does not exist yet. */
    private static final long MAX_PAUSE_NANOS = 50_000_000;

    @Option(names = "--kind", paramLabel = "KIND", converter = KindConverter.class,
            description = "The kind of channel: one-to-one, many-to-one or publish-subscribe. When the channel "
                + "exists it must be of this kind; without --kind any kind is used as it is. A new channel gets "
                + "this kind, by default many-to-one (any number of senders, one receiver; publish-subscribe for `recv "
                + "--subscriber`).")
    private ChannelKind kind;

    @Option(names = "--capacity", paramLabel = "SIZE", converter = CapacityConverter.class,
            description = "The ring size of a new channel: a power of two from 4K to 1G (messages may be up to an "
                + "eighth of it). When the channel exists it must have this size. Default: 4M, the library's default.")
    private Long capacity;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", converter = Permissions.class,
            description = "Permission bits of a new channel, in octal; other users' senders and receivers need "
                + "606 (read and write). Default: ${DEFAULT-VALUE}.")
    private int mode;

    @Option(names = "--no-create",
            description = "Do not create the channel: wait for another command or program to create it "
                + "(bounded by --timeout).")
    private boolean noCreate;

    @Mixin
    private ForeignOwnerOption foreign;

    /** Created by picocli. */
    ChannelOpening() {
    }

    /** @return the kind asked for with {@code --kind}, or null when any will do */
    ChannelKind requestedKind() {
        return kind;
    }

    /**
     * Opens the channel, or creates it when it does not exist (unless {@code --no-create}).
     *
     * @param name the channel's segment name
     * @param timeout with {@code --no-create}, how long to wait for it to appear; null for ever
     * @param kindIfNew the kind to create when {@code --kind} was not given
     * @return the channel, of the kind and capacity asked for, if any
     * @throws TimeoutException when it did not appear in time
     * @throws IllegalStateException when it exists with another kind or capacity than {@code --kind} or
     *         {@code --capacity} ask for
     * @throws IOException when it cannot be opened or created, or is not a channel
     */
    Channel openOrCreate(String name, Duration timeout, ChannelKind kindIfNew) throws IOException, TimeoutException {
        long start = System.nanoTime();
        long pause = 1_000_000;
        while (true) {
            try {
                return checkAsked(Channel.open(name, openOptions()));
            } catch (NoSuchFileException missing) {
                if (!noCreate) {
                    try {
                        return Channel.create(name, kind != null ? kind : kindIfNew, createOptions());
                    } catch (FileAlreadyExistsException raced) {
                        // The other side created it between our open and our create: open theirs.
                        continue;
                    }
                }
            }
            if (timeout != null && System.nanoTime() - start >= Durations.saturatedNanos(timeout)) {
                throw new TimeoutException("no channel \"" + name + "\" appeared within " + Durations.format(timeout)
                        + " (--timeout); without --no-create, this command creates it");
            }
            // Waiting for another process to create it: a look every few ms costs nothing, and the
            // back-off keeps a long wait from spinning.
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, MAX_PAUSE_NANOS);
        }
    }

    /** An existing channel must be what the options ask for: better an error than a silent difference. */
    private Channel checkAsked(Channel channel) {
        String mismatch = null;
        if (kind != null && channel.kind() != kind) {
            mismatch = "is " + channel.kind().label() + ", not " + kind.label() + " (--kind)";
        } else if (capacity != null && channel.capacity() != capacity) {
            mismatch = "has a " + ByteSizes.human(channel.capacity()) + " ring, not " + ByteSizes.human(capacity)
                    + " (--capacity)";
        }
        if (mismatch != null) {
            channel.close();
            throw new IllegalStateException("channel \"" + channel.name() + "\" " + mismatch + ": leave the option "
                    + "out to use the channel as it is, or remove it with `shm rm " + channel.name()
                    + "` to make a new one");
        }
        return channel;
    }

    private ChannelOptions openOptions() {
        return ChannelOptions.defaults().segmentOptions(foreign.options(Access.READ_WRITE));
    }

    /** Persistent: the command that creates a channel exits, and the channel must outlive it. */
    private ChannelOptions createOptions() {
        SegmentOptions segment = SegmentOptions.defaults().permissions(mode).lifetime(Lifetime.PERSISTENT);
        ChannelOptions options = ChannelOptions.defaults().segmentOptions(segment);
        return capacity != null ? options.capacity(capacity) : options;
    }

    /** Converts {@code --kind} values: the kinds' labels, in any case, or the enum names. */
    static final class KindConverter implements ITypeConverter<ChannelKind> {
        @Override
        public ChannelKind convert(String value) {
            String wanted = value.strip().toLowerCase(Locale.ROOT).replace('_', '-');
            for (ChannelKind k : ChannelKind.values()) {
                if (k.label().equals(wanted)) {
                    return k;
                }
            }
            throw new TypeConversionException("invalid channel kind \"" + value + "\": write one of "
                    + Arrays.stream(ChannelKind.values()).map(ChannelKind::label).collect(Collectors.joining(", ")));
        }
    }

    /** Converts {@code --capacity} values: sizes that a channel ring may have. */
    static final class CapacityConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long bytes;
            try {
                bytes = ByteSizes.parse(value);
                ChannelOptions.defaults().capacity(bytes);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("invalid capacity \"" + value + "\": a channel ring is a power "
                        + "of two from 4K to 1G, e.g. 64K or 1M");
            }
            return bytes;
        }
    }
}
