package io.shmkit.cli;

import io.shmkit.Segment;
import io.shmkit.SegmentInfo;
import io.shmkit.SharedMemory;
import io.shmkit.View;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * {@code shm tour}: a newcomer's first command. It creates a segment, starts a second JVM that
 * opens it by name ({@link TourPeerCommand}), and shows a message passing each way.
 *
 * <p>The two processes take turns through a sequence word in the segment, written with release
 * and read with acquire semantics, so each sees the other's string once it sees the new number.
 */
@Command(name = "tour",
        description = {
            "A guided tour in one command: creates a segment with a unique name, starts a second process that opens "
                + "it by that name, passes a greeting one way and a reply the other, explains each step, and shows "
                + "that the segment is gone once both have closed it.",
            "Needs no input and takes a second or two."})
final class TourCommand implements Callable<Integer> {

    /** The tour's layout: a small segment with two C strings and the sequence word that orders them. */
    static final long SIZE = 4096;
    /** Where the greeting goes: offset 0, where a C program looks first. */
    static final long GREETING_AT = 0;
    /** Where the second process writes its reply. */
    static final long REPLY_AT = 1024;
    /** The sequence word: 0, then each step below. */
    static final long SEQUENCE_AT = 2048;
    /** The first process wrote the greeting. */
    static final int GREETING_WRITTEN = 1;
    /** The second process wrote its reply. */
    static final int REPLY_WRITTEN = 2;
    /** The first process has read the reply; the second may close. */
    static final int DONE = 3;

    private static final VarHandle SEQUENCE = ValueLayout.JAVA_INT.varHandle();
    private static final Duration POLL = Duration.ofMillis(1);

    @Spec
    private CommandSpec spec;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "20s", converter = Durations.Converter.class,
            description = "How long to wait for the second process (a JVM has to start). Default: ${DEFAULT-VALUE}.")
    private Duration timeout;

    /** Created by picocli. */
    TourCommand() {
    }

    /**
     * Reads the sequence word.
     *
     * @param memory a view of the tour's segment
     * @return the step reached
     */
    static int sequence(MemorySegment memory) {
        return (int) SEQUENCE.getAcquire(memory, SEQUENCE_AT);
    }

    /**
     * Moves the sequence word on, after the strings of that step are written.
     *
     * @param memory a view of the tour's segment
     * @param step the step reached
     */
    static void advance(MemorySegment memory, int step) {
        SEQUENCE.setRelease(memory, SEQUENCE_AT, step);
    }

    @Override
    public Integer call() throws IOException, TimeoutException {
        PrintWriter out = spec.commandLine().getOut();
        long pid = ProcessHandle.current().pid();
        String name = String.format("shm-tour-%d-%04x", pid, ThreadLocalRandom.current().nextInt(0x10000));
        String greeting = "hello from pid " + pid;
        out.println("shm tour: two processes pass messages through a named segment of shared memory.");
        out.println();
        try (Segment segment = SharedMemory.create(name, SIZE); View view = segment.map()) {
            out.println("1. Created the segment \"" + name + "\", " + SIZE + " bytes, in this process (pid " + pid
                    + ").");
            out.println("   Its name is all another process needs. On Linux the segment is the file");
            out.println("   " + segment.path() + ", in a file system kept in RAM (tmpfs).");
            out.println("   Its lifetime is \"until last close\": it is removed when the last process holding it "
                    + "closes it, or dies.");
            view.putString(GREETING_AT, greeting);
            advance(view.memory(), GREETING_WRITTEN);
            out.println("2. Wrote a greeting at offset " + GREETING_AT + ", as C would (UTF-8 and a NUL byte): \""
                    + greeting + "\"");
            out.println("   and set the sequence word at offset " + SEQUENCE_AT + " to " + GREETING_WRITTEN
                    + " (\"greeting written\").");
            out.flush();
            exchange(name, view, greeting, out);
        }
        String path = SharedMemory.osPath(name);
        if (SharedMemory.exists(name)) {
            throw new IOException("segment \"" + name + "\" is still there after both processes closed it: " + path
                    + " exists; `shm info " + name + "` shows who holds it");
        }
        out.println("7. Closed this process's handle, the last one, so the segment is gone: " + path + " exists: no");
        out.println();
        out.println("Next: `shm writer demo` in one terminal and `shm reader demo` in another (one current message),");
        out.println("or `shm recv prices` and `echo hello | shm send prices` (a channel: a stream of messages, none");
        out.println("overwritten before it is read). `shm --help` lists every command.");
        return ExitCodes.OK;
    }

    private void exchange(String name, View view, String greeting, PrintWriter out)
            throws IOException, TimeoutException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        Process peer = startPeer(name);
        FutureTask<String> peerOutput = collect(peer.getInputStream());
        try {
            out.println("3. Started a second process, a new JVM (pid " + peer.pid() + "): shm tour-peer " + name);
            out.println("   Waiting until it sets the sequence word to " + REPLY_WRITTEN + " (\"reply written\")...");
            out.flush();
            while (sequence(view.memory()) != REPLY_WRITTEN) {
                if (!peer.isAlive()) {
                    throw new IOException("the second process (pid " + peer.pid() + ") exited with code "
                            + peer.exitValue() + " before replying: " + lastLine(output(peerOutput)));
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException("the second process (pid " + peer.pid() + ") did not reply within "
                            + Durations.format(timeout) + " (--timeout)");
                }
                LockSupport.parkNanos(POLL.toNanos());
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String reply = view.getString(REPLY_AT);
            List<Integer> holders = SharedMemory.info(name).map(SegmentInfo::holderPids).orElse(List.of());
            advance(view.memory(), DONE);
            if (!peer.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new TimeoutException("the second process (pid " + peer.pid() + ") did not exit within "
                        + Durations.format(timeout) + " (--timeout)");
            }
            if (peer.exitValue() != 0) {
                throw new IOException("the second process (pid " + peer.pid() + ") failed with exit code "
                        + peer.exitValue() + ": " + lastLine(output(peerOutput)));
            }
            out.println("4. It replied after " + millis + " ms, at offset " + REPLY_AT + ": \"" + reply + "\"");
            if (!holders.isEmpty()) {
                out.println("   Both processes held the segment then: pids " + holders.stream().sorted()
                        .map(String::valueOf).collect(Collectors.joining(", ")) + " (as `shm info` shows).");
            }
            out.println("   What the second process did, in its own words:");
            output(peerOutput).lines().forEach(line -> out.println("     | " + line));
            out.println("5. What passed between the two processes:");
            out.println("   pid " + ProcessHandle.current().pid() + " -> pid " + peer.pid() + ": \"" + greeting + "\"");
            out.println("   pid " + peer.pid() + " -> pid " + ProcessHandle.current().pid() + ": \"" + reply + "\"");
            explainOtherLanguages(name, out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the second process", e);
        } finally {
            peer.destroyForcibly();
        }
    }

    private static void explainOtherLanguages(String name, PrintWriter out) {
        out.println("6. Any program can open the same name while it exists, and finds the greeting at offset 0:");
        out.println("   C:      int fd = shm_open(\"/" + name + "\", O_RDWR, 0);");
        out.println("           char *p = mmap(NULL, " + SIZE + ", PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); "
                + "printf(\"%s\\n\", p);");
        out.println("   Python: from multiprocessing import shared_memory");
        out.println("           m = shared_memory.SharedMemory(name=\"" + name + "\")  # add track=False on 3.13+");
        out.println("           print(bytes(m.buf[:" + REPLY_AT + "]).split(b\"\\0\")[0].decode())");
        out.println("   Shell:  shm read " + name);
    }

    /** The same java, class path and native access as this JVM, running the hidden peer command. */
    private Process startPeer(String name) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Shm.class.getName(), "tour-peer", name, "--timeout", Durations.format(timeout)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Process peer = builder.start();
        peer.getOutputStream().close();
        return peer;
    }

    /** Reads the peer's output on a thread of its own, so that a chatty peer never blocks on a full pipe. */
    private static FutureTask<String> collect(InputStream in) {
        FutureTask<String> task = new FutureTask<>(() -> new String(in.readAllBytes(), StandardCharsets.UTF_8));
        Thread.ofPlatform().daemon().name("tour-peer-output").start(task);
        return task;
    }

    /** The peer's output once it has exited (its end of the pipe is closed, so this does not wait long). */
    private static String output(FutureTask<String> peerOutput) throws IOException {
        try {
            return peerOutput.get(5, TimeUnit.SECONDS).strip();
        } catch (ExecutionException | TimeoutException e) {
            return "(its output could not be read: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the output of the second process", e);
        }
    }

    private static String lastLine(String text) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "(no output)" : lines.getLast();
    }
}
