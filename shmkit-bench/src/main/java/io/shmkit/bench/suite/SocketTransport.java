package io.shmkit.bench.suite;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A stream socket between two processes: a Unix domain socket, or TCP over loopback with
 * TCP_NODELAY. Every stream of a case maps to the one connection (ping and pong travel in opposite
 * directions). One {@code write} per message; the receiver reads whatever has arrived into a
 * 256 KiB buffer and cuts it into messages of the case's fixed size. Block mode: blocking
 * channels (the kernel wakes the reader); spin mode: non-blocking channels polled in a loop.
 */
final class SocketTransport implements Transport {
    private final boolean tcp;
    private Config config;
    private ServerSocketChannel server;
    private SocketAddress address;
    private Path socketFile;
    private SocketChannel channel;

    SocketTransport(boolean tcp) {
        this.tcp = tcp;
    }

    @Override
    public String start(Config config, boolean first, List<String> streams) throws IOException {
        this.config = config;
        if (tcp) {
            if (first) {
                server = ServerSocketChannel.open(StandardProtocolFamily.INET);
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                return "--port=" + ((InetSocketAddress) server.getLocalAddress()).getPort();
            }
            address = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(config.get("port")));
        } else {
            socketFile = Path.of(System.getProperty("java.io.tmpdir"), config.base() + ".sock");
            address = UnixDomainSocketAddress.of(socketFile);
            if (first) {
                Files.deleteIfExists(socketFile);
                server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                server.bind(address);
            }
        }
        return "";
    }

    /** Accepts (first process) or connects (the other) on first use, after the READY handshake. */
    private SocketChannel channel() throws IOException {
        if (channel == null) {
            SocketChannel c = server != null ? server.accept() : SocketChannel.open(address);
            if (tcp) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            c.configureBlocking(!(config.mode().equals("spin") || config.yielding()));
            channel = c;
        }
        return channel;
    }

    @Override
    public Sender sender(String stream) {
        ByteBuffer out = ByteBuffer.allocateDirect(Math.max(16, config.size())).order(ByteOrder.LITTLE_ENDIAN);
        return (seq, length) -> {
            SocketChannel c = channel();
            out.clear().limit(length);
            out.putLong(0, seq).putLong(length - 8, seq);
            while (out.hasRemaining()) {
                if (c.write(out) == 0) {
                    Thread.onSpinWait();
                }
            }
            return true;
        };
    }

    @Override
    public Receiver receiver(String stream) {
        int size = config.size();
        ByteBuffer in = ByteBuffer.allocateDirect(Math.max(256 * 1024, 2 * size)).order(ByteOrder.LITTLE_ENDIAN);
        return new Receiver() {
            @Override
            public int poll(Sink sink, int limit) throws IOException {
                int n = 0;
                if (in.position() < size) {
                    int r = channel().read(in);
                    if (r < 0) {
                        throw new EOFException("the peer closed the socket");
                    }
                }
                in.flip();
                while (n < limit && in.remaining() >= size) {
                    int p = in.position();
                    sink.onMessage(in.getLong(p), in.getLong(p + size - 8), size);
                    in.position(p + size);
                    n++;
                }
                in.compact();
                return n;
            }

            @Override
            public void idle() {
                if (config.yielding()) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        };
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
        if (server != null) {
            server.close();
        }
        if (socketFile != null && server != null) {
            Files.deleteIfExists(socketFile);
        }
    }
}
