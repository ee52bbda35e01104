package io.shmkit.channel;

import io.shmkit.internal.layout.ChannelDescriptor;

/** Who may send and who receives on a channel. */
public enum ChannelKind {
    /** One producer, one consumer (single producer, single consumer). The fastest kind. */
    ONE_TO_ONE(ChannelDescriptor.KIND_ONE_TO_ONE),
    /** Any number of producers, in any processes and threads, and one consumer. */
    MANY_TO_ONE(ChannelDescriptor.KIND_MANY_TO_ONE),
    /**
     * One producer and any number of subscribers, each of which sees every message. The producer
     * is held back by the slowest live subscriber; a subscriber whose process died stops holding it
     * back.
     */
    PUBLISH_SUBSCRIBE(ChannelDescriptor.KIND_PUBLISH_SUBSCRIBE);

    private final int code;

    ChannelKind(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }

    static ChannelKind of(int code) {
        for (ChannelKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown channel kind " + code);
    }

    /** @return the kind as written in docs and the CLI, e.g. {@code one-to-one} */
    public String label() {
        return ChannelDescriptor.kindName(code);
    }
}
