package io.shmkit.bench.suite;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What the results were measured on: printed with every run and written into the results. */
final class Machine {
    String cpuModel = "unknown";
    List<Integer> cpus = new ArrayList<>();
    int online;
    String kernel = "unknown";
    String jdk;
    String memory = "unknown";
    boolean taskset;
    boolean hypervisor;
    String loadBefore = "unknown";
    String loadAfter = "unknown";
    String busiest = "";
    String compiler = "";

    static Machine probe() {
        Machine m = new Machine();
        m.jdk = System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.name") + " "
                + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vm.name") + ")";
        m.online = Runtime.getRuntime().availableProcessors();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && m.cpuModel.equals("unknown")) {
                    m.cpuModel = line.substring(line.indexOf(':') + 1).trim();
                }
                if (line.startsWith("flags") && line.contains(" hypervisor")) {
                    m.hypervisor = true;
                }
            }
            m.kernel = "Linux " + Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    m.memory = String.format("%.1f GiB", kb / 1048576.0);
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    m.cpus = parseList(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            m.loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc hidden: keep what we have
        }
        if (m.cpus.isEmpty()) {
            for (int i = 0; i < m.online; i++) {
                m.cpus.add(i);
            }
        }
        m.taskset = !m.firstLine(List.of("taskset", "--version")).isEmpty();
        m.busiest = m.busiestProcesses();
        return m;
    }

    static List<Integer> parseList(String list) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : list.split(",")) {
            String[] range = part.trim().split("-");
            int from = Integer.parseInt(range[0]);
            int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
            for (int i = from; i <= to; i++) {
                cpus.add(i);
            }
        }
        return cpus;
    }

    List<Integer> cpus() {
        return cpus;
    }

    boolean taskset() {
        return taskset;
    }

    void finish() {
        try {
            loadAfter = Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            // keep unknown
        }
    }

    /** The first line a command prints, or "" when it cannot run. */
    String firstLine(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return "";
            }
            return text.lines().findFirst().orElse("").trim();
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    /** Other processes using CPU when the run started (from ps), to judge how quiet the machine was. */
    private String busiestProcesses() {
        try {
            Process p = new ProcessBuilder("ps", "-eo", "pcpu,comm", "--sort=-pcpu").redirectErrorStream(true).start();
            List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().skip(1)
                    .map(String::trim).filter(l -> !l.startsWith("0.0")).limit(3).toList();
            p.waitFor(10, TimeUnit.SECONDS);
            return String.join("; ", lines);
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    List<String> describe(boolean pinned) {
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, Object> e : asMap(pinned).entrySet()) {
            lines.add(e.getKey() + ": " + e.getValue());
        }
        return lines;
    }

    Map<String, Object> asMap(boolean pinned) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("CPU", cpuModel + (hypervisor ? " (virtual machine)" : ""));
        m.put("cores", cpus.size() + " usable (CPUs " + cpus + "), " + online + " online");
        m.put("memory", memory);
        m.put("kernel", kernel);
        m.put("JDK", jdk);
        m.put("pinning", pinned ? "taskset: the two processes of a case on CPUs " + cpus.subList(0, 2)
                + ", one each; cases of 3 processes on fewer than 3 CPUs unpinned" : "none");
        m.put("load average at start", loadBefore);
        if (!loadAfter.equals("unknown")) {
            m.put("load average at end", loadAfter);
        }
        if (!busiest.isEmpty()) {
            m.put("busiest processes at start (%CPU since start)", busiest);
        }
        if (!compiler.isEmpty()) {
            m.put("C compiler", compiler);
        }
        return m;
    }
}
