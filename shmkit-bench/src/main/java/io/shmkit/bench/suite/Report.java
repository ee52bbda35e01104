package io.shmkit.bench.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/** Turns a run's results into results.json, results.md (tables, ratios, targets) and results.png. */
final class Report {
    private final Suite suite;
    private final List<Suite.Result> results;
    private final double seconds;
    private final String date = ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));

    Report(Suite suite, double seconds) {
        this.suite = suite;
        this.results = suite.results;
        this.seconds = seconds;
    }

    void write() throws IOException {
        Files.writeString(suite.out.resolve("results.json"), Json.write(json(), "  ") + "\n");
        Files.writeString(suite.out.resolve("results.md"), markdown());
        try {
            Chart.write(this, suite.out.resolve("results.png"));
        } catch (Exception | Error e) {
            System.err.println("no chart: " + e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Formatting

    static String nanos(double ns) {
        if (Double.isNaN(ns)) {
            return "-";
        }
        if (ns < 10_000) {
            return String.format(Locale.ROOT, "%.0f ns", ns);
        }
        if (ns < 10_000_000) {
            return String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
    }

    static String rate(double perSecond) {
        if (Double.isNaN(perSecond)) {
            return "-";
        }
        if (perSecond >= 1e6) {
            return String.format(Locale.ROOT, "%.2f M", perSecond / 1e6);
        }
        if (perSecond >= 1e3) {
            return String.format(Locale.ROOT, "%.1f k", perSecond / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", perSecond);
    }

    static String bytesRate(double bytesPerSecond) {
        if (Double.isNaN(bytesPerSecond)) {
            return "-";
        }
        if (bytesPerSecond >= 1e9) {
            return String.format(Locale.ROOT, "%.2f GB/s", bytesPerSecond / 1e9);
        }
        return String.format(Locale.ROOT, "%.0f MB/s", bytesPerSecond / 1e6);
    }

    static String ratio(double r) {
        return Double.isNaN(r) || Double.isInfinite(r) ? "-" : String.format(Locale.ROOT, "%.2f", r);
    }

    static String percent(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.0f%%", fraction * 100);
    }

    static String sizeLabel(int size) {
        return binary(size);
    }

    /** A power-of-two byte count such as a ring's capacity: "4 MiB", "64 KiB". */
    static String binary(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : bytes >= 1024 ? (bytes >> 10) + " KiB" : bytes + " B";
    }

    static String label(String transport) {
        if (transport.equals("memcpy")) {
            return "memcpy, 1 thread (ceiling)";
        }
        return Peers.of(transport).label();
    }

    /** A markdown table: the first column left-aligned, the figures right-aligned. */
    static String table(List<String> header, List<List<String>> rows) {
        return table(header, rows, 1);
    }

    /** A markdown table whose first {@code leftColumns} columns are left-aligned (text), the rest right-aligned. */
    static String table(List<String> header, List<List<String>> rows, int leftColumns) {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) {
            sb.append(i < leftColumns ? "---|" : "---:|");
        }
        sb.append('\n');
        for (List<String> row : rows) {
            sb.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return sb.toString();
    }

    Machine machine() {
        return suite.machine;
    }

    // ---------------------------------------------------------------------------------------------
    // Lookups

    List<Suite.Result> select(Predicate<Suite.Result> p) {
        return results.stream().filter(p).toList();
    }

    /** Every successful run of a case. */
    List<Suite.Result> runs(String scenario, String transport, int size, String mode) {
        return select(r -> r.ok() && r.c().scenario().equals(scenario) && r.c().transport().equals(transport)
                && r.c().size() == size && r.c().mode().equals(mode));
    }

    /** The headline figure of a result: p50 for round trips, messages/s otherwise. */
    static double headline(Suite.Result r) {
        return r.c().scenario().equals("latency") ? r.get("p50") : r.get("messagesPerSecond");
    }

    /**
     * The best run of a case by its headline figure (lowest median latency, highest rate), or null.
     * Best, not median: on a shared virtual machine whole stretches of minutes run 2-4x slower for
     * every transport (the C floor included), so noise here only ever slows a run down, and two of
     * three runs of a case can land in such a stretch; every transport gets the same treatment.
     */
    Suite.Result find(String scenario, String transport, int size, String mode) {
        List<Suite.Result> runs = new ArrayList<>(runs(scenario, transport, size, mode));
        if (runs.isEmpty()) {
            return null;
        }
        runs.sort(java.util.Comparator.comparingDouble(Report::headline));
        return scenario.equals("latency") ? runs.getFirst() : runs.getLast();
    }

    /** How many runs a case had, and the range of their headline figure when more than one. */
    String spread(Suite.Result r) {
        List<Suite.Result> runs = runs(r.c().scenario(), r.c().transport(), r.c().size(), r.c().mode());
        if (runs.size() < 2) {
            return "1";
        }
        double lo = runs.stream().mapToDouble(Report::headline).min().orElse(Double.NaN);
        double hi = runs.stream().mapToDouble(Report::headline).max().orElse(Double.NaN);
        boolean latency = r.c().scenario().equals("latency");
        return runs.size() + " (" + (latency ? nanos(lo) + " – " + nanos(hi) : rate(lo) + " – " + rate(hi)) + ")";
    }

    /** The rows of a table: one per case, its best run, or its first failure when none succeeded. */
    private List<Suite.Result> rows(String scenario, int size, String mode) {
        List<Suite.Result> rows = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Suite.Result r : results) {
            Suite.Case c = r.c();
            if (c.scenario().equals(scenario) && c.size() == size && c.mode().equals(mode) && seen.add(c.id())) {
                Suite.Result best = find(scenario, c.transport(), size, mode);
                rows.add(best != null ? best : r);
            }
        }
        return rows;
    }

    double value(String scenario, String transport, int size, String mode, String key) {
        Suite.Result r = find(scenario, transport, size, mode);
        return r == null ? Double.NaN : r.get(key);
    }

    // ---------------------------------------------------------------------------------------------
    // Sections

    private String latencyTable(int size, String mode) {
        List<Suite.Result> rows = rows("latency", size, mode);
        if (rows.isEmpty()) {
            return "";
        }
        double base50 = value("latency", "shmkit-1to1", size, mode, "p50");
        double base99 = value("latency", "shmkit-1to1", size, mode, "p99");
        boolean blocking = mode.equals("block");
        List<String> header = new ArrayList<>(List.of("Transport", "p50", "p90", "p99", "p99.9", "max", "round trips",
                "shmkit p50 ÷ this", "shmkit p99 ÷ this", "runs (p50 range)"));
        if (blocking) {
            header.addAll(List.of("CPU ping side", "CPU echo side"));
        }
        List<List<String>> body = new ArrayList<>();
        for (Suite.Result r : rows) {
            List<String> row = new ArrayList<>(List.of(label(r.c().transport())));
            if (!r.ok()) {
                row.add(r.status() + ": " + r.reason().replace('|', '/'));
                while (row.size() < header.size()) {
                    row.add("");
                }
            } else {
                row.addAll(List.of(nanos(r.get("p50")), nanos(r.get("p90")), nanos(r.get("p99")), nanos(r.get("p999")),
                        nanos(r.get("max")), String.format(Locale.ROOT, "%,d", (long) r.get("count")),
                        ratio(base50 / r.get("p50")), ratio(base99 / r.get("p99")), spread(r)));
                if (blocking) {
                    row.addAll(List.of(percent(r.get("pingCpuPerWall")), percent(r.get("pongCpuPerWall"))));
                }
            }
            body.add(row);
        }
        return "### Round trip, " + sizeLabel(size) + ", " + modeLabel(blocking ? "block-paced" : mode) + "\n\n"
                + table(header, body);
    }

    static String modeLabel(String mode) {
        return switch (mode) {
            case "block" -> "blocking (receivers park when idle)";
            case "block-paced" -> "blocking, a pause of 50 µs between round trips (the echo side idles and is woken)";
            case "yield" -> "yielding (3 processes share fewer than 3 cores)";
            default -> "busy-spin";
        };
    }

    private String throughputTable(String scenario, int size, String mode, String baseline) {
        List<Suite.Result> rows = rows(scenario, size, mode);
        if (rows.isEmpty()) {
            return "";
        }
        double base = value(scenario, baseline, size, mode, "messagesPerSecond");
        List<String> header = List.of("Transport", "messages/s", "bandwidth", label(baseline) + " ÷ this",
                "10 ms windows: min / median / max", "CPU of receiver", "sender pushed back", "runs (range)");
        List<List<String>> body = new ArrayList<>();
        for (Suite.Result r : rows) {
            List<String> row = new ArrayList<>(List.of(label(r.c().transport())));
            if (!r.ok()) {
                row.add(r.status() + ": " + r.reason().replace('|', '/'));
                while (row.size() < header.size()) {
                    row.add("");
                }
            } else if (r.c().transport().equals("memcpy")) {
                row.addAll(List.of(rate(r.get("messagesPerSecond")), bytesRate(r.get("bytesPerSecond"))
                        + " (64 MiB region: " + bytesRate(r.get("gbPerSecondLarge") * 1e9) + ")",
                        ratio(base / r.get("messagesPerSecond")), "", "", "", spread(r)));
            } else {
                row.addAll(List.of(rate(r.get("messagesPerSecond")), bytesRate(r.get("bytesPerSecond")),
                        ratio(base / r.get("messagesPerSecond")),
                        rate(r.get("windowMin")) + " / " + rate(r.get("windowMedian")) + " / " + rate(r.get("windowMax")),
                        percent(r.get("consumerCpuPerWall")), pushedBack(r), spread(r)));
            }
            body.add(row);
        }
        String title = switch (scenario) {
            case "many-to-one" -> "### Many-to-one: 2 producer processes, 1 consumer, " + sizeLabel(size) + ", " + modeLabel(mode);
            case "pub-sub" -> "### Publish-subscribe: 1 producer, 2 subscriber processes (slowest shown), "
                    + sizeLabel(size) + ", " + modeLabel(mode);
            default -> "### One-way throughput, " + sizeLabel(size) + ", " + modeLabel(mode);
        };
        return title + "\n\n" + table(header, body);
    }

    @SuppressWarnings("unchecked")
    private static String pushedBack(Suite.Result r) {
        Object producers = r.metrics().get("producers");
        if (!(producers instanceof List<?> list)) {
            return "";
        }
        double pushed = 0;
        double sent = 0;
        for (Object o : list) {
            Map<String, Object> p = (Map<String, Object>) o;
            pushed += ((Number) p.getOrDefault("pushedBack", 0)).doubleValue();
            sent += ((Number) p.getOrDefault("sent", 0)).doubleValue();
        }
        return sent == 0 ? "" : String.format(Locale.ROOT, "%.1f per message", pushed / sent);
    }

    /** The targets, each met or not, with the numbers. */
    List<String[]> targets() {
        List<String[]> t = new ArrayList<>();
        double shm = value("latency", "shmkit-1to1", 32, "spin", "p50");
        double agrona = value("latency", "agrona-1to1", 32, "spin", "p50");
        double aeron = value("latency", "aeron-ipc", 32, "spin", "p50");
        double floor = value("latency", "c-floor", 32, "spin", "p50");
        t.add(verdict("32 B round trip, busy-spin: shmkit p50 ≤ Agrona's and Aeron IPC's p50",
                shm <= agrona && shm <= aeron, !Double.isNaN(shm + agrona + aeron),
                String.format(Locale.ROOT, "shmkit %s, Agrona %s (ratio %s), Aeron %s (ratio %s)", nanos(shm),
                        nanos(agrona), ratio(shm / agrona), nanos(aeron), ratio(shm / aeron))));
        t.add(verdict("32 B round trip, busy-spin: shmkit p50 within 1.2x of the C cache-line floor",
                shm <= 1.2 * floor, !Double.isNaN(shm + floor),
                String.format(Locale.ROOT, "shmkit %s, C floor %s: %sx", nanos(shm), nanos(floor), ratio(shm / floor))));
        // Not one of the targets: what the same C program costs when each message goes to
        // the next record of a ring, as in every channel, instead of the same cache line.
        double ringFloor = value("latency", "c-ring", 32, "spin", "p50");
        t.add(verdict("(context) 32 B round trip, busy-spin: shmkit p50 within 1.2x of the C ring floor",
                shm <= 1.2 * ringFloor, !Double.isNaN(shm + ringFloor),
                String.format(Locale.ROOT, "shmkit %s, C ring floor %s: %sx; C ring floor ÷ C floor: %sx", nanos(shm),
                        nanos(ringFloor), ratio(shm / ringFloor), ratio(ringFloor / floor))));
        for (int size : new int[]{32, 256}) {
            double s = value("throughput", "shmkit-1to1", size, "spin", "messagesPerSecond");
            double a = value("throughput", "aeron-ipc", size, "spin", "messagesPerSecond");
            t.add(verdict(size + " B one-way throughput, busy-spin: shmkit ≥ Aeron IPC", s >= a, !Double.isNaN(s + a),
                    String.format(Locale.ROOT, "shmkit %s msg/s, Aeron %s msg/s: %sx", rate(s), rate(a), ratio(s / a))));
        }
        double big = value("throughput", "shmkit-1to1", 65536, "spin", "bytesPerSecond");
        double copy = value("throughput", "memcpy", 65536, "spin", "bytesPerSecond");
        t.add(verdict("64 KiB messages with tryClaim: ≥ 80% of single-thread memcpy bandwidth",
                big >= 0.8 * copy, !Double.isNaN(big + copy),
                String.format(Locale.ROOT, "shmkit %s, memcpy %s (%s region, as the ring): %s", bytesRate(big),
                        bytesRate(copy), binary(suite.ring), percent(big / copy))));
        return t;
    }

    private static String[] verdict(String target, boolean met, boolean measured, String numbers) {
        return new String[]{target, measured ? (met ? "met" : "**not met**") : "not measured", numbers};
    }

    /** Where a peer beat shmkit by more than 5%, at the same size and mode. */
    List<String> slower() {
        List<String> lines = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Suite.Result any : results) {
            Suite.Case c = any.c();
            Suite.Result r = find(c.scenario(), c.transport(), c.size(), c.mode());
            if (r == null || !seen.add(c.id()) || c.transport().startsWith("shmkit") || !Peers.isJava(c.transport())) {
                continue;
            }
            String baseline = switch (c.scenario()) {
                case "many-to-one" -> "shmkit-mto1";
                case "pub-sub" -> "shmkit-pubsub";
                default -> "shmkit-1to1";
            };
            if (c.scenario().equals("latency")) {
                double ours = value("latency", baseline, c.size(), c.mode(), "p50");
                if (ours > 1.05 * r.get("p50")) {
                    lines.add(String.format(Locale.ROOT, "round trip %s %s: %s p50 %s vs shmkit %s (%sx)", sizeLabel(c.size()),
                            c.mode(), label(c.transport()), nanos(r.get("p50")), nanos(ours), ratio(ours / r.get("p50"))));
                }
            } else {
                double ours = value(c.scenario(), baseline, c.size(), c.mode(), "messagesPerSecond");
                if (ours < 0.95 * r.get("messagesPerSecond")) {
                    lines.add(String.format(Locale.ROOT, "%s %s %s: %s %s msg/s vs %s %s (%sx)", c.scenario(),
                            sizeLabel(c.size()), c.mode(), label(c.transport()), rate(r.get("messagesPerSecond")),
                            label(baseline), rate(ours), ratio(ours / r.get("messagesPerSecond"))));
                }
            }
        }
        return lines;
    }

    // ---------------------------------------------------------------------------------------------

    String tables() {
        StringBuilder sb = new StringBuilder();
        sb.append("Ratios: shmkit's figure divided by the row's. Latency: below 1, shmkit is faster. Throughput: above 1, shmkit is faster.\n\n");
        int[] sizes = results.stream().mapToInt(r -> r.c().size()).distinct().sorted().toArray();
        for (int size : sizes) {
            append(sb, latencyTable(size, "spin"));
        }
        for (int size : sizes) {
            append(sb, latencyTable(size, "block"));
        }
        for (int size : sizes) {
            append(sb, throughputTable("throughput", size, "spin", "shmkit-1to1"));
        }
        for (int size : sizes) {
            append(sb, throughputTable("throughput", size, "block", "shmkit-1to1"));
        }
        for (String mode : List.of("spin", "yield")) {
            append(sb, throughputTable("many-to-one", 32, mode, "shmkit-mto1"));
            append(sb, throughputTable("pub-sub", 32, mode, "shmkit-pubsub"));
        }
        return sb.toString();
    }

    private static void append(StringBuilder sb, String section) {
        if (!section.isEmpty()) {
            sb.append(section).append('\n');
        }
    }

    String targetsTable() {
        List<List<String>> rows = new ArrayList<>();
        for (String[] t : targets()) {
            rows.add(List.of(t[0], t[1], t[2]));
        }
        return table(List.of("Target", "", "Numbers"), rows, 3);
    }

    String consoleTables() {
        return tables() + "\n### Targets\n\n" + targetsTable();
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# shmkit benchmark suite: results\n\n");
        sb.append(String.format(Locale.ROOT, "%s run of %s, %d cases in %.0f s. Warm-up %.1f s, measurement up to %.1f s"
                        + " (round trips: up to %,d). Rings of shmkit and Agrona: %s (`--ring`); Aeron: its default term."
                        + " Messages carry a sequence number in their first and last 8 bytes;"
                        + " receivers check both.%n%n", suite.quick ? "Quick (`--quick`)" : "Full", date, results.size(),
                seconds, suite.warmup, suite.duration, suite.rounds, binary(suite.ring)));
        sb.append("![latency and throughput per transport](results.png)\n\n");
        sb.append("## Machine\n\n");
        for (Map.Entry<String, Object> e : suite.machine.asMap(suite.pin).entrySet()) {
            sb.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        sb.append("- JVM flags of every child: `").append(String.join(" ", suite.commonFlags)).append("`\n");
        sb.append(String.format(Locale.ROOT, "- ring capacity of the shared-memory transports: %d KiB%n%n", suite.ring / 1024));
        sb.append("## Transports\n\n");
        List<List<String>> rows = new ArrayList<>();
        for (Peers p : Peers.ALL) {
            rows.add(List.of(p.label(), p.description(), idle(p.id(), "spin"), idle(p.id(), "block"),
                    p.jvmFlags().isEmpty() ? "" : "`" + String.join(" ", p.jvmFlags()) + "`"));
        }
        sb.append(table(List.of("Transport", "What", "Idle: busy-spin", "Idle: blocking", "Extra JVM flags"), rows, 5));
        sb.append("\nAeron media driver: ").append(AeronTransport.driverDescription(suite.machine.cpus().size()))
                .append(", in the process started first; directory in /dev/shm, removed afterwards.\n");
        if (suite.machine.cpus().size() < 3) {
            sb.append("\n**This machine has ").append(suite.machine.cpus().size()).append(" cores**: the many-to-one"
                    + " and publish-subscribe cases run 3 processes, so they run with yielding idle strategies and"
                    + " half-length measurements (full warm-up), unpinned; their figures show contention, not capacity.\n");
        }
        sb.append("\n## Targets\n\n");
        if (suite.repeats > 1) {
            sb.append("Each case a target compares ran ").append(suite.repeats).append(" times, minutes apart;"
                    + " the figures are the best run of each (the tables give the range): stretches of this"
                    + " machine's time run 2-4x slower for every transport, so a slow run says nothing about the code.\n\n");
        }
        sb.append(targetsTable()).append('\n');
        List<String> slower = slower();
        sb.append("## Where a peer is faster than shmkit (by more than 5%)\n\n");
        if (slower.isEmpty()) {
            sb.append("Nowhere in this run.\n");
        } else {
            for (String s : slower) {
                sb.append("- ").append(s).append('\n');
            }
        }
        sb.append("\n## Results\n\n").append(tables());
        return sb.toString();
    }

    static String idle(String transport, String mode) {
        return switch (transport) {
            case "shmkit-1to1", "shmkit-mto1", "shmkit-pubsub" -> ShmkitTransport.idleDescription(mode);
            case "aeron-ipc", "agrona-1to1", "agrona-mto1", "chronicle" -> AgronaTransport.idleDescription(mode);
            case "uds", "tcp" -> mode.equals("block") ? "blocking read" : "non-blocking read in a spin loop";
            case "c-floor", "c-ring" -> mode.equals("block") ? "200 spins, then futex wait" : "pause-instruction spin";
            default -> "";
        };
    }

    private Map<String, Object> json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("date", date);
        root.put("run", suite.quick ? "quick" : "full");
        root.put("seconds", Math.round(seconds));
        root.put("warmupSeconds", suite.warmup);
        root.put("durationSeconds", suite.duration);
        root.put("roundTrips", suite.rounds);
        root.put("ringBytes", suite.ring);
        root.put("machine", suite.machine.asMap(suite.pin));
        root.put("jvmFlags", suite.commonFlags);
        Map<String, Object> transports = new LinkedHashMap<>();
        for (Peers p : Peers.ALL) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("label", p.label());
            t.put("description", p.description());
            t.put("idleSpin", idle(p.id(), "spin"));
            t.put("idleBlock", idle(p.id(), "block"));
            t.put("jvmFlags", p.jvmFlags());
            transports.put(p.id(), t);
        }
        root.put("transports", transports);
        root.put("aeronDriver", AeronTransport.driverDescription(suite.machine.cpus().size()));
        List<Object> list = new ArrayList<>();
        for (Suite.Result r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.c().id());
            m.put("scenario", r.c().scenario());
            m.put("transport", r.c().transport());
            m.put("size", r.c().size());
            m.put("mode", r.c().mode());
            m.put("fanOut", r.c().fanOut());
            m.put("status", r.status());
            if (!r.reason().isEmpty()) {
                m.put("reason", r.reason());
            }
            m.put("pinning", r.pinning());
            m.put("metrics", r.metrics());
            list.add(m);
        }
        root.put("results", list);
        List<Object> targets = new ArrayList<>();
        for (String[] t : targets()) {
            targets.add(Map.of("target", t[0], "verdict", t[1].replace("*", ""), "numbers", t[2]));
        }
        root.put("targets", targets);
        return root;
    }
}
