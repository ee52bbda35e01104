package io.shmkit.bench.suite;

import java.util.List;

/** What the suite knows about each transport: a label, a description, the JVM flags its children need. */
record Peers(String id, String label, String description, List<String> jvmFlags) {

    /**
     * Agrona 2.x (and so Aeron) uses jdk.internal.misc.Unsafe: without this flag UnsafeBuffer fails
     * with IllegalAccessError ("module java.base does not export jdk.internal.misc").
     */
    static final List<String> AGRONA_FLAGS = List.of("--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED");

    /** The flags Chronicle's documentation lists for Java 17 and later, plus Agrona's (the block mode's idle strategy)
     * and the switch that stops Chronicle's usage analytics from calling out. */
    static final List<String> CHRONICLE_FLAGS = List.of(
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
            "-Dchronicle.analytics.disable=true");

    static final List<Peers> ALL = List.of(
            new Peers("shmkit-1to1", "shmkit one-to-one", "shmkit channel, ChannelKind.ONE_TO_ONE (tryClaim/commit, poll in place)", List.of()),
            new Peers("shmkit-mto1", "shmkit many-to-one", "shmkit channel, ChannelKind.MANY_TO_ONE (CAS claim; consumer zeroes what it read)", List.of()),
            new Peers("shmkit-pubsub", "shmkit pub-sub", "shmkit channel, ChannelKind.PUBLISH_SUBSCRIBE (subscriber)", List.of()),
            new Peers("aeron-ipc", "Aeron IPC", "Aeron 1.51.0, " + AeronTransport.CHANNEL + ", tryClaim up to the max payload, offer above", AGRONA_FLAGS),
            new Peers("agrona-1to1", "Agrona 1:1 ring", "Agrona 2.4.1 OneToOneRingBuffer on a /dev/shm file mapped by both (tryClaim/commit, read)", AGRONA_FLAGS),
            new Peers("agrona-mto1", "Agrona M:1 ring", "Agrona 2.4.1 ManyToOneRingBuffer on a /dev/shm file mapped by all (tryClaim/commit, read)", AGRONA_FLAGS),
            new Peers("chronicle", "Chronicle Queue", "Chronicle Queue (open source) in /dev/shm, appender writingDocument / tailer readingDocument", CHRONICLE_FLAGS),
            new Peers("uds", "Unix socket", "Unix domain stream socket (SocketChannel), one write per message", List.of()),
            new Peers("tcp", "TCP loopback", "TCP over 127.0.0.1, TCP_NODELAY, one write per message", List.of()),
            new Peers("c-floor", "C floor", "C, two processes: one cache line per direction (payload + sequence), cc -O2", List.of()),
            new Peers("c-ring", "C ring floor", "C, two processes: one ring per direction, message after message (8-byte header + payload, no zeroing, no checks; the sender touches the line 256 bytes ahead, as shmkit does), cc -O2", List.of()));

    static Peers of(String id) {
        for (Peers p : ALL) {
            if (p.id.equals(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown transport " + id);
    }

    static boolean isJava(String id) {
        return !id.equals("c-floor") && !id.equals("c-ring") && !id.equals("memcpy");
    }
}
