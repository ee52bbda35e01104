package io.shmkit.bench;

import io.shmkit.SharedEvent;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Cross-process wake-up: a child process sleeps on an auto-reset event "ping" and sets "pong"
 * back; one operation is a full round trip (two wake-ups across processes). Against it, the same
 * round trip of one byte over a Unix domain socket to a child that echoes it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WakeupBench {

    private SharedEvent ping;
    private SharedEvent pong;
    private Process eventPeer;
    private Process socketPeer;
    private Path socketDir;
    private SocketChannel channel;
    private final ByteBuffer one = ByteBuffer.allocateDirect(1);

    @Setup
    public void setUp() throws Exception {
        String base = "shmkit-bench-" + ProcessHandle.current().pid();
        ping = SharedEvent.create(base + "-ping", false);
        pong = SharedEvent.create(base + "-pong", false);
        eventPeer = start(EventEcho.class, base + "-ping", base + "-pong");
        socketDir = Files.createTempDirectory("shmkit-bench");
        Path socket = socketDir.resolve("echo.sock");
        socketPeer = start(SocketEcho.class, socket.toString());
        channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /** Starts a peer main in a new JVM with this class path and waits for its READY line. */
    static Process start(Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"READY".equals(line)) {
            p.destroyForcibly();
            throw new IllegalStateException(main.getSimpleName() + " did not start: " + line);
        }
        return p;
    }

    @TearDown
    public void tearDown() throws Exception {
        channel.close();
        for (Process p : List.of(eventPeer, socketPeer)) {
            p.getOutputStream().close(); // the peers exit at end of input
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        ping.close();
        pong.close();
        Files.deleteIfExists(socketDir.resolve("echo.sock"));
        Files.deleteIfExists(socketDir);
    }

    @Benchmark
    public void eventRoundTrip() throws InterruptedException {
        ping.set();
        pong.await();
    }

    @Benchmark
    public byte unixSocketRoundTrip() throws IOException {
        one.clear();
        one.put(0, (byte) 1);
        while (one.hasRemaining()) {
            channel.write(one);
        }
        one.clear();
        while (one.hasRemaining()) {
            if (channel.read(one) < 0) {
                throw new IOException("the echo peer closed the socket");
            }
        }
        return one.get(0);
    }

    /** Peer: waits on the first event and sets the second, forever; exits when stdin ends. */
    public static final class EventEcho {
        private EventEcho() {
        }

        public static void main(String[] args) throws Exception {
            try (SharedEvent in = SharedEvent.open(args[0]); SharedEvent out = SharedEvent.open(args[1])) {
                exitAtEndOfInput();
                System.out.println("READY");
                System.out.flush();
                while (true) {
                    in.await();
                    out.set();
                }
            }
        }
    }

    /** Peer: echoes every byte on a Unix domain socket; exits when stdin ends. */
    public static final class SocketEcho {
        private SocketEcho() {
        }

        public static void main(String[] args) throws Exception {
            var server = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(args[0]));
            exitAtEndOfInput();
            System.out.println("READY");
            System.out.flush();
            try (SocketChannel c = server.accept()) {
                ByteBuffer b = ByteBuffer.allocateDirect(1);
                while (true) {
                    b.clear();
                    if (c.read(b) < 0) {
                        return;
                    }
                    b.flip();
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                }
            }
        }
    }

    private static void exitAtEndOfInput() {
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // discard
                }
            } catch (IOException ignored) {
                // the parent is gone
            }
            Runtime.getRuntime().halt(0);
        });
        t.setDaemon(true);
        t.start();
    }
}
