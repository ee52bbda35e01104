package io.shmkit;

import java.util.Locale;

/**
 * What a segment holds, as its first bytes announce it: shmkit's named synchronization objects
 * and channels start with a magic number ({@code docs/sync.md}, {@code docs/channels.md});
 * anything else is plain data.
 */
public enum SegmentKind {
    /** Plain bytes: no shmkit primitive at offset 0. */
    DATA,
    /** A {@link SharedMutex}. */
    MUTEX,
    /** A {@link SharedEvent}. */
    EVENT,
    /** A {@link SharedSemaphore}. */
    SEMAPHORE,
    /** A {@link SeqLock}. */
    SEQLOCK,
    /** A message channel ({@link io.shmkit.channel.Channel}). */
    CHANNEL;

    /** @return the kind in lower case, as {@code shm ls} and {@code shm info} print it, e.g. "mutex" */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
