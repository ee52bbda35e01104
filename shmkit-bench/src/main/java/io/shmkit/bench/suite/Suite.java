package io.shmkit.bench.suite;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The benchmark suite's orchestrator: for each case (transport x scenario x size x wait mode) it
 * starts the processes, passes them READY/GO/close lines on their stdin and stdout (every wait
 * bounded), collects their RESULT lines, and writes results.json, results.md and results.png.
 *
 * <pre>
 * java -cp shmkit-bench/target/benchmarks.jar io.shmkit.bench.suite.Suite [--quick] [--out DIR]
 *      [--warmup S] [--duration S] [--rounds N] [--only REGEX] [--no-pin]
 * </pre>
 */
public final class Suite {
    static final int[] LATENCY_SIZES = {32, 256, 4096};
    static final int[] THROUGHPUT_SIZES = {32, 256, 65536};
    static final List<String> LATENCY_TRANSPORTS = List.of("shmkit-1to1", "shmkit-mto1", "shmkit-pubsub",
            "aeron-ipc", "agrona-1to1", "agrona-mto1", "chronicle", "uds", "tcp", "c-floor", "c-ring");
    static final List<String> THROUGHPUT_TRANSPORTS = List.of("shmkit-1to1", "shmkit-mto1", "shmkit-pubsub",
            "aeron-ipc", "agrona-1to1", "agrona-mto1", "chronicle", "uds", "tcp");
    static final List<String> MANY_TO_ONE_TRANSPORTS = List.of("shmkit-mto1", "aeron-ipc", "agrona-mto1");
    static final List<String> PUBSUB_TRANSPORTS = List.of("shmkit-pubsub", "aeron-ipc", "chronicle");
    /** Blocking round trips: the pinger pauses this long between round trips, so the echo side idles. */
    static final long PAUSE_NANOS = 50_000;
    /** Chronicle Queue keeps every message: cap what one case writes into /dev/shm. */
    static final long CHRONICLE_MAX_BYTES = 1L << 30;

    final boolean quick;
    final Path out;
    final double warmup;
    final double duration;
    final long rounds;
    final Pattern only;
    final boolean pin;
    final int repeats;
    /** Message sizes of the round-trip and throughput cases instead of the defaults, or null. */
    int[] sizes;
    /**
     * Ring capacity of shmkit's channels and Agrona's rings: shmkit's default. Aeron keeps its own
     * default IPC term (64 MiB): with smaller terms its driver, which cleans them, idles on a
     * machine of 2 cores and the publisher waits for it (256 B, 1 MiB terms: 1.3 M msg/s).
     */
    static final int DEFAULT_RING = 4 << 20;

    int ring = DEFAULT_RING;
    final Machine machine;
    final List<Result> results = new ArrayList<>();
    final String javaCommand;
    final String classPath;
    final List<String> commonFlags;
    String floorBinary;
    String floorProblem;
    int caseNumber;

    Suite(boolean quick, Path out, double warmup, double duration, long rounds, Pattern only, boolean pin, int repeats) {
        this.repeats = repeats;
        this.quick = quick;
        this.out = out;
        this.warmup = warmup;
        this.duration = duration;
        this.rounds = rounds;
        this.only = only;
        this.machine = Machine.probe();
        this.pin = pin && machine.taskset() && machine.cpus().size() >= 2;
        this.javaCommand = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        this.classPath = System.getProperty("java.class.path");
        this.commonFlags = List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xms64m", "-Xmx512m");
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        Path out = null;
        Double warmup = null;
        Double duration = null;
        Long rounds = null;
        Pattern only = null;
        boolean pin = true;
        Integer repeats = null;
        int[] sizes = null;
        Integer ring = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--out" -> out = Path.of(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--duration" -> duration = Double.parseDouble(args[++i]);
                case "--rounds" -> rounds = Long.parseLong(args[++i]);
                case "--only" -> only = Pattern.compile(args[++i]);
                case "--no-pin" -> pin = false;
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--ring" -> ring = Integer.parseInt(args[++i]);
                case "--sizes" -> sizes = java.util.Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "-h", "--help" -> {
                    System.out.println("""
                            usage: Suite [--quick] [--out DIR] [--warmup S] [--duration S] [--rounds N] [--repeats N] [--sizes N,N] [--ring BYTES] [--only REGEX] [--no-pin]
                              --quick       about a minute: every transport once at 32 B, short measurements
                              --out DIR     where results.{md,json,png} go (default bench-results/suite-TIMESTAMP)
                              --warmup S    warm-up seconds per measurement (default 1, quick 0.6: the FFM hot paths need C2)
                              --duration S  longest measurement in seconds (default 2, quick 0.4)
                              --rounds N    round trips per latency measurement, if time allows (default 1000000, quick 200000)
                              --repeats N   runs of each case a target compares, the best counts (default 3, quick 1)
                              --sizes N,N   message sizes of the round-trip and throughput cases (default 32,256,4096 and 32,256,65536)
                              --ring BYTES  ring capacity of shmkit's channels and Agrona's rings, a power of two (default 4194304)
                              --only REGEX  only cases whose id (scenario/transport/size/mode) matches
                              --no-pin      do not pin the two processes of a case to separate CPUs""");
                    return;
                }
                default -> {
                    System.err.println("unknown argument " + args[i] + " (--help)");
                    System.exit(2);
                }
            }
        }
        if (out == null) {
            out = Path.of("bench-results", "suite-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        Files.createDirectories(out.resolve("logs"));
        Suite suite = new Suite(quick, out, warmup != null ? warmup : quick ? 0.6 : 1.0,
                duration != null ? duration : quick ? 0.4 : 2.0, rounds != null ? rounds : quick ? 200_000 : 1_000_000,
                only, pin, repeats != null ? repeats : quick ? 1 : 3);
        if (ring != null) {
            if (ring < 65536 || Integer.bitCount(ring) != 1) {
                System.err.println("--ring: a power of two of at least 65536 bytes");
                System.exit(2);
            }
            suite.ring = ring;
        }
        if (sizes != null && java.util.Arrays.stream(sizes).anyMatch(n -> n < 16 || n > 65536)) {
            System.err.println("--sizes: each from 16 to 65536 bytes");
            System.exit(2);
        }
        suite.sizes = sizes;
        suite.run();
    }

    // ---------------------------------------------------------------------------------------------

    void run() throws Exception {
        long t0 = System.nanoTime();
        System.out.println("shmkit benchmark suite (" + (quick ? "quick" : "full") + "), results in " + out);
        for (String line : machine.describe(pin)) {
            System.out.println("  " + line);
        }
        buildFloor();
        if (machine.cpus().size() < 3) {
            System.out.println("  NOTE: " + machine.cpus().size() + " cores: the many-to-one and publish-subscribe cases run"
                    + " 3 processes, so they yield when idle instead of spinning, unpinned, with half-length"
                    + " measurements: they show contention, not capacity.");
        }
        System.out.println("  Aeron: " + AeronTransport.driverDescription(machine.cpus().size()));
        List<Case> cases = cases();
        System.out.printf(Locale.ROOT, "%d cases; warm-up %.1f s, measurement up to %.1f s (latency: up to %,d round trips)%n",
                cases.size(), warmup, duration, rounds);
        for (Case c : cases) {
            caseNumber++;
            Result r = run(c);
            results.add(r);
            System.out.printf(Locale.ROOT, "[%3d/%d] %-44s %s%n", caseNumber, cases.size(), c.id(), r.summary());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        machine.finish();
        Report report = new Report(this, seconds);
        report.write();
        System.out.println();
        System.out.println(report.consoleTables());
        System.out.printf(Locale.ROOT, "%nDone in %.0f s: %s, %s, %s%n", seconds, out.resolve("results.md"),
                out.resolve("results.json"), out.resolve("results.png"));
        cleanUp();
    }

    /** Every case of the run, in order. */
    List<Case> cases() {
        List<Case> list = new ArrayList<>();
        int cores = machine.cpus().size();
        int[] latencySizes = sizes != null ? sizes : quick ? new int[]{32} : LATENCY_SIZES;
        for (int size : latencySizes) {
            for (String t : LATENCY_TRANSPORTS) {
                list.add(new Case("latency", t, size, "spin", 1));
            }
        }
        for (String t : LATENCY_TRANSPORTS) {
            if (!quick || t.startsWith("shmkit-1")) {
                list.add(new Case("latency", t, 32, "block", 1));
            }
        }
        for (int size : sizes != null ? sizes : quick ? new int[]{32} : THROUGHPUT_SIZES) {
            for (String t : THROUGHPUT_TRANSPORTS) {
                list.add(new Case("throughput", t, size, "spin", 1));
            }
        }
        if (quick) {
            list.add(new Case("throughput", "shmkit-1to1", 65536, "spin", 1));
        }
        list.add(new Case("throughput", "memcpy", 65536, "spin", 1));
        for (String t : THROUGHPUT_TRANSPORTS) {
            if (!quick || t.startsWith("shmkit-1")) {
                list.add(new Case("throughput", t, 32, "block", 1));
            }
        }
        // Three processes: on fewer than 3 cores they cannot all spin; they yield instead.
        String crowdMode = cores >= 3 ? "spin" : "yield";
        for (String t : quick ? List.of("shmkit-mto1") : MANY_TO_ONE_TRANSPORTS) {
            list.add(new Case("many-to-one", t, 32, crowdMode, 2));
        }
        for (String t : quick ? List.of("shmkit-pubsub") : PUBSUB_TRANSPORTS) {
            list.add(new Case("pub-sub", t, 32, crowdMode, 2));
        }
        // The cases the targets compare, again at the end: each target is judged on the best of
        // runs minutes apart, not on one that a neighbour's build or a vCPU move happened to hit.
        List<Case> key = List.of(
                new Case("latency", "shmkit-1to1", 32, "spin", 1), new Case("latency", "agrona-1to1", 32, "spin", 1),
                new Case("latency", "aeron-ipc", 32, "spin", 1), new Case("latency", "c-floor", 32, "spin", 1),
                new Case("latency", "c-ring", 32, "spin", 1),
                new Case("throughput", "shmkit-1to1", 32, "spin", 1), new Case("throughput", "aeron-ipc", 32, "spin", 1),
                new Case("throughput", "shmkit-1to1", 256, "spin", 1), new Case("throughput", "aeron-ipc", 256, "spin", 1),
                new Case("throughput", "shmkit-1to1", 65536, "spin", 1), new Case("throughput", "memcpy", 65536, "spin", 1));
        for (int rep = 1; rep < repeats; rep++) {
            list.addAll(key);
        }
        if (only != null) {
            list.removeIf(c -> !only.matcher(c.id()).find());
        }
        return list;
    }

    /** One measurement. {@code fanOut}: producers of many-to-one, subscribers of pub-sub. */
    record Case(String scenario, String transport, int size, String mode, int fanOut) {
        String id() {
            return scenario + "/" + transport + "/" + size + "/" + mode;
        }
    }

    /** The outcome of a case: "ok" with metrics, or "failed" / "not run" with a reason. */
    record Result(Case c, String status, String reason, Map<String, Object> metrics, String pinning) {
        double get(String key) {
            Object v = metrics.get(key);
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        boolean ok() {
            return status.equals("ok");
        }

        String summary() {
            if (!ok()) {
                return status + ": " + reason;
            }
            if (c.scenario().equals("latency")) {
                return String.format(Locale.ROOT, "p50 %s  p99 %s  p99.9 %s  max %s  (%,d round trips)",
                        Report.nanos(get("p50")), Report.nanos(get("p99")), Report.nanos(get("p999")),
                        Report.nanos(get("max")), (long) get("count"));
            }
            if (c.transport().equals("memcpy")) {
                return String.format(Locale.ROOT, "%.2f GB/s (%s region), %.2f GB/s (64 MiB region)",
                        get("gbPerSecond"), Report.binary((long) get("regionBytes")), get("gbPerSecondLarge"));
            }
            return String.format(Locale.ROOT, "%s msg/s  %.2f GB/s", Report.rate(get("messagesPerSecond")),
                    get("bytesPerSecond") / 1e9);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Running a case

    Result run(Case c) {
        try {
            if (c.transport().equals("memcpy")) {
                return memcpy(c);
            }
            if (c.transport().equals("c-floor") || c.transport().equals("c-ring")) {
                return floorPingPong(c);
            }
            return runJava(c);
        } catch (Exception e) {
            return new Result(c, "failed", e.toString(), Map.of(), "");
        } finally {
            sweep();
        }
    }

    private String base(Case c) {
        return "shmkit-bench-" + ProcessHandle.current().pid() + "-" + caseNumber;
    }

    /** The processes of a Java case, in start order: role and extra arguments. */
    private List<List<String>> roles(Case c) {
        List<List<String>> roles = new ArrayList<>();
        switch (c.scenario()) {
            case "latency" -> {
                roles.add(List.of("--role", "pong"));
                roles.add(List.of("--role", "ping"));
            }
            case "pub-sub" -> {
                for (int i = 0; i < c.fanOut(); i++) {
                    roles.add(List.of("--role", "consumer"));
                }
                roles.add(List.of("--role", "producer", "--id", "0"));
            }
            default -> {
                roles.add(List.of("--role", "consumer", "--producers", Integer.toString(c.fanOut())));
                int producers = c.scenario().equals("many-to-one") ? c.fanOut() : 1;
                for (int i = 0; i < producers; i++) {
                    roles.add(List.of("--role", "producer", "--id", Integer.toString(i)));
                }
            }
        }
        return roles;
    }

    private List<Integer> pinning(int processes) {
        List<Integer> cpus = machine.cpus();
        if (!pin || processes > cpus.size()) {
            return null;
        }
        return cpus.subList(0, processes);
    }

    private Result runJava(Case c) throws Exception {
        String transport = c.transport();
        Peers peer = Peers.of(transport);
        String base = base(c);
        List<List<String>> roles = roles(c);
        List<Integer> cpus = pinning(roles.size());
        List<String> common = new ArrayList<>(List.of("--transport", transport, "--base", base,
                "--size", Integer.toString(c.size()), "--mode", c.mode(), "--ring", Integer.toString(ring),
                "--cores", Integer.toString(machine.cpus().size()),
                "--warmup", Double.toString(warmup),
                "--duration", Double.toString(c.fanOut() > 1 ? duration / 2 : duration),
                "--rounds", Long.toString(rounds)));
        if (c.scenario().equals("latency") && c.mode().equals("block")) {
            common.addAll(List.of("--pauseNanos", Long.toString(PAUSE_NANOS)));
        }
        if (transport.equals("chronicle")) {
            long cap = CHRONICLE_MAX_BYTES / c.size();
            common.addAll(List.of("--maxMessages", Long.toString(cap), "--maxWarmupRounds", Long.toString(cap / 4)));
            if (c.scenario().equals("latency")) {
                common.addAll(List.of("--rounds", Long.toString(Math.min(rounds, cap))));
            }
        }
        List<Proc> children = new ArrayList<>();
        List<String> forwarded = new ArrayList<>();
        try {
            for (int i = 0; i < roles.size(); i++) {
                List<String> cmd = new ArrayList<>();
                if (cpus != null) {
                    cmd.addAll(List.of("taskset", "-c", Integer.toString(cpus.get(i))));
                }
                cmd.add(javaCommand);
                cmd.addAll(commonFlags);
                cmd.addAll(peer.jvmFlags());
                cmd.addAll(List.of("-cp", classPath, Child.class.getName()));
                cmd.addAll(common);
                cmd.addAll(roles.get(i));
                cmd.addAll(List.of("--first", Boolean.toString(i == 0)));
                cmd.addAll(forwarded);
                Proc child = new Proc(cmd, out.resolve("logs").resolve(caseNumber + "-" + c.id().replace('/', '_') + "-" + i + ".log"));
                children.add(child);
                String ready = child.await("READY", 60);
                String rest = ready.substring("READY".length()).trim();
                if (!rest.isEmpty()) {
                    forwarded.addAll(List.of(rest.split(" ")));
                }
            }
            for (Proc child : children) {
                child.send("GO");
            }
            long limit = (long) (warmup + duration) + 60;
            List<Map<String, Object>> outputs = new ArrayList<>();
            for (Proc child : children) {
                outputs.add(child.result(limit));
            }
            return new Result(c, "ok", "", merge(c, outputs), cpus == null ? "none" : cpus.toString());
        } catch (Exception e) {
            String detail = children.isEmpty() ? "" : children.getLast().tail();
            return new Result(c, "failed", e.getMessage() + detail, Map.of(), "");
        } finally {
            for (Proc child : children.reversed()) {
                child.close();
            }
        }
    }

    /** Combines the children's RESULT objects into the case's metrics. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> merge(Case c, List<Map<String, Object>> outputs) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (c.scenario()) {
            case "latency" -> {
                Map<String, Object> pong = outputs.get(0);
                Map<String, Object> ping = outputs.get(1);
                m.putAll(ping);
                m.put("pingCpuPerWall", ((Number) ping.get("cpuNanos")).doubleValue() / ((Number) ping.get("wallNanos")).doubleValue());
                m.put("pongCpuPerWall", ((Number) pong.get("cpuNanos")).doubleValue() / ((Number) pong.get("wallNanos")).doubleValue());
                m.put("pong", pong);
            }
            case "pub-sub" -> {
                // The slowest subscriber sets the rate.
                Map<String, Object> slowest = null;
                List<Object> subscribers = new ArrayList<>();
                for (int i = 0; i < c.fanOut(); i++) {
                    Map<String, Object> s = outputs.get(i);
                    subscribers.add(s);
                    if (slowest == null || ((Number) s.get("messagesPerSecond")).doubleValue()
                            < ((Number) slowest.get("messagesPerSecond")).doubleValue()) {
                        slowest = s;
                    }
                }
                m.putAll(slowest);
                m.put("consumerCpuPerWall", ((Number) slowest.get("cpuNanos")).doubleValue() / ((Number) slowest.get("wallNanos")).doubleValue());
                m.put("subscribers", subscribers);
                m.put("producers", outputs.subList(c.fanOut(), outputs.size()));
            }
            default -> {
                Map<String, Object> consumer = outputs.get(0);
                m.putAll(consumer);
                m.put("consumerCpuPerWall", ((Number) consumer.get("cpuNanos")).doubleValue() / ((Number) consumer.get("wallNanos")).doubleValue());
                m.put("producers", new ArrayList<Object>(outputs.subList(1, outputs.size())));
            }
        }
        return m;
    }

    /** A child process and the lines it prints. */
    private static final class Proc {
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Path log;
        private final OutputStream stdin;

        Proc(List<String> command, Path log) throws IOException {
            this.log = log;
            ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
            this.process = pb.start();
            this.stdin = process.getOutputStream();
            InputStream stdout = process.getInputStream();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
                lines.add("\u0000EOF");
            });
        }

        /** Waits up to {@code seconds} for a line starting with {@code prefix}. */
        String await(String prefix, long seconds) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new IllegalStateException("no " + prefix + " line within " + seconds + " s");
                }
                if (line.equals("\u0000EOF")) {
                    process.waitFor(5, TimeUnit.SECONDS);
                    throw new IllegalStateException("exited (" + (process.isAlive() ? "?" : process.exitValue())
                            + ") before " + prefix + tail());
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> result(long seconds) throws Exception {
            String line = await("RESULT ", seconds);
            return (Map<String, Object>) Json.parse(line.substring("RESULT ".length()));
        }

        void send(String line) throws IOException {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }

        /** The last lines of its stderr, for failure reports. */
        String tail() {
            try {
                List<String> all = Files.readAllLines(log);
                List<String> last = all.stream().filter(l -> !l.isBlank() && !l.startsWith("WARNING")).toList();
                last = last.subList(Math.max(0, last.size() - 3), last.size());
                return last.isEmpty() ? "" : " [" + String.join(" | ", last) + "]";
            } catch (IOException e) {
                return "";
            }
        }

        void close() {
            try {
                send("close");
                stdin.close();
            } catch (IOException ignored) {
                // already gone
            }
            try {
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The C floor

    private void buildFloor() {
        try {
            Path source = out.resolve("floor.c");
            try (InputStream in = Suite.class.getResourceAsStream("floor.c")) {
                if (in == null) {
                    throw new IOException("floor.c is missing from the class path");
                }
                Files.copy(in, source, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            Path binary = out.resolve("floor");
            String cc = System.getenv().getOrDefault("CC", "cc");
            List<String> cmd = List.of(cc, "-O2", "-o", binary.toString(), source.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + output.trim());
            }
            floorBinary = binary.toString();
            machine.compiler = machine.firstLine(List.of(cc, "--version"));
            System.out.println("  C floor: " + String.join(" ", cmd) + " (" + machine.compiler + ")");
        } catch (Exception e) {
            floorProblem = "no C compiler: " + e.getMessage();
            System.out.println("  C floor not built: " + e.getMessage());
        }
    }

    private Map<String, Object> runFloor(List<String> args, long seconds) throws Exception {
        if (floorBinary == null) {
            throw new IllegalStateException(floorProblem);
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(floorBinary);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        // Read everything on a virtual thread so a stuck floor cannot hang the suite.
        var output = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                output.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                output.completeExceptionally(e);
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("the floor did not finish within " + seconds + " s");
        }
        String text = output.get(5, TimeUnit.SECONDS);
        for (String line : text.split("\n")) {
            if (line.startsWith("RESULT ")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) Json.parse(line.substring(7));
                return m;
            }
        }
        throw new IllegalStateException("the floor printed no result: " + text.trim());
    }

    private Result floorPingPong(Case c) throws Exception {
        List<Integer> cpus = pinning(2);
        long warmupRounds = (long) Math.max(10_000, warmup * 200_000);
        boolean ringMode = c.transport().equals("c-ring");
        List<String> args = new ArrayList<>(List.of(ringMode ? "ringpong" : "pingpong", Integer.toString(c.size()),
                Long.toString(warmupRounds), Long.toString(rounds), Double.toString(duration),
                c.mode().equals("block") ? "futex" : "spin",
                cpus == null ? "-1" : cpus.get(0).toString(), cpus == null ? "-1" : cpus.get(1).toString(),
                Long.toString(c.mode().equals("block") ? PAUSE_NANOS : 0)));
        if (ringMode) {
            // The channels' ring size, so that both walk the same amount of memory.
            args.add(Integer.toString(ring));
        }
        Map<String, Object> m = runFloor(args, (long) duration + 60);
        Map<String, Object> metrics = new LinkedHashMap<>(m);
        double wall = ((Number) m.get("wallNanos")).doubleValue();
        metrics.put("pingCpuPerWall", ((Number) m.get("pingCpuNanos")).doubleValue() / wall);
        metrics.put("pongCpuPerWall", ((Number) m.get("pongCpuNanos")).doubleValue()
                / ((Number) m.get("pongWallNanos")).doubleValue());
        return new Result(c, "ok", "", metrics, cpus == null ? "none" : cpus.toString());
    }

    private Result memcpy(Case c) throws Exception {
        Map<String, Object> small = runFloor(List.of("memcpy", Integer.toString(c.size()), Double.toString(duration),
                Integer.toString(ring)), (long) duration + 60);
        Map<String, Object> large = runFloor(List.of("memcpy", Integer.toString(c.size()), Double.toString(duration / 2),
                Integer.toString(64 << 20)), (long) duration + 60);
        Map<String, Object> metrics = new LinkedHashMap<>(small);
        metrics.put("gbPerSecondLarge", large.get("gbPerSecond"));
        metrics.put("regionBytes", ring);
        metrics.put("bytesPerSecond", ((Number) small.get("gbPerSecond")).doubleValue() * 1e9);
        metrics.put("messagesPerSecond", ((Number) small.get("gbPerSecond")).doubleValue() * 1e9 / c.size());
        return new Result(c, "ok", "", metrics, "none");
    }

    // ---------------------------------------------------------------------------------------------

    /** Removes what a case may have left in /dev/shm and the temp directory (children killed mid-run). */
    private void sweep() {
        String prefix = "shmkit-bench-" + ProcessHandle.current().pid() + "-";
        for (Path dir : List.of(Path.of("/dev/shm"), Path.of(System.getProperty("java.io.tmpdir")))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                    ChronicleTransport.deleteTree(p);
                }
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private void cleanUp() {
        sweep();
        File floor = out.resolve("floor").toFile();
        if (floor.exists() && !floor.delete()) {
            System.err.println("could not remove " + floor);
        }
    }
}
