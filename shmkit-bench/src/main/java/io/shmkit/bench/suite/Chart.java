package io.shmkit.bench.suite;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The run's picture, drawn with Java2D (headless): round-trip p50 and p99 at 32 B (log scale),
 * one-way throughput at 32 B, and bandwidth at 64 KiB, one horizontal bar per transport; shmkit in
 * orange, peers in blue, the C floor and memcpy ceiling in grey.
 */
final class Chart {
    private static final int WIDTH = 1200;
    private static final int LEFT = 210;
    private static final int RIGHT = 150;
    private static final int BAR = 22;
    private static final Color SHMKIT = new Color(0xE8, 0x71, 0x1C);
    private static final Color SHMKIT_LIGHT = new Color(0xF6, 0xC1, 0x93);
    private static final Color PEER = new Color(0x2F, 0x6D, 0xB5);
    private static final Color PEER_LIGHT = new Color(0xA9, 0xC6, 0xE8);
    private static final Color FLOOR = new Color(0x70, 0x70, 0x70);
    private static final Color FLOOR_LIGHT = new Color(0xC8, 0xC8, 0xC8);

    private Chart() {
    }

    record Bar(String label, String transport, double value, double second, String text) {
    }

    static void write(Report report, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Bar> latency = new ArrayList<>();
        for (String t : Suite.LATENCY_TRANSPORTS) {
            Suite.Result r = report.find("latency", t, 32, "spin");
            if (r != null) {
                latency.add(new Bar(Report.label(t), t, r.get("p50"), r.get("p99"),
                        "p50 " + Report.nanos(r.get("p50")) + ", p99 " + Report.nanos(r.get("p99"))));
            }
        }
        List<Bar> small = new ArrayList<>();
        for (String t : Suite.THROUGHPUT_TRANSPORTS) {
            Suite.Result r = report.find("throughput", t, 32, "spin");
            if (r != null) {
                small.add(new Bar(Report.label(t), t, r.get("messagesPerSecond") / 1e6, Double.NaN,
                        Report.rate(r.get("messagesPerSecond")) + " msg/s"));
            }
        }
        List<Bar> big = new ArrayList<>();
        List<String> bigTransports = new ArrayList<>(Suite.THROUGHPUT_TRANSPORTS);
        bigTransports.add("memcpy");
        for (String t : bigTransports) {
            Suite.Result r = report.find("throughput", t, 65536, "spin");
            if (r != null) {
                big.add(new Bar(Report.label(t), t, r.get("bytesPerSecond") / 1e9, Double.NaN,
                        Report.bytesRate(r.get("bytesPerSecond"))));
            }
        }
        int panels = (latency.isEmpty() ? 0 : 1) + (small.isEmpty() ? 0 : 1) + (big.isEmpty() ? 0 : 1);
        int height = 60 + panelHeight(latency, true) + panelHeight(small, false) + panelHeight(big, false) + 20;
        if (panels == 0) {
            return;
        }
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        Machine m = report.machine();
        g.drawString("shmkit vs peers, between processes  (" + m.cpus().size() + " cores, " + m.cpuModel + ")", 20, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("shmkit in orange, peers in blue, C floor / memcpy ceiling in grey. Same run, same machine.", 20, 48);
        int y = 60;
        if (!latency.isEmpty()) {
            y = panel(g, y, "Round trip, 32 B, busy-spin: p50 (dark) and p99 (light), log scale", latency, true);
        }
        if (!small.isEmpty()) {
            y = panel(g, y, "One-way throughput, 32 B messages, busy-spin (million messages/s)", small, false);
        }
        if (!big.isEmpty()) {
            panel(g, y, "One-way bandwidth, 64 KiB messages, busy-spin (GB/s)", big, false);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static int panelHeight(List<Bar> bars, boolean twoBars) {
        return bars.isEmpty() ? 0 : 40 + bars.size() * (twoBars ? 2 * BAR + 8 : BAR + 8) + 40;
    }

    private static Color color(String transport, boolean light) {
        if (transport.startsWith("shmkit")) {
            return light ? SHMKIT_LIGHT : SHMKIT;
        }
        if (!Peers.isJava(transport)) {
            return light ? FLOOR_LIGHT : FLOOR;
        }
        return light ? PEER_LIGHT : PEER;
    }

    private static int panel(Graphics2D g, int top, String title, List<Bar> bars, boolean log) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 20, top + 22);
        int plotLeft = LEFT;
        int plotWidth = WIDTH - LEFT - RIGHT;
        int y = top + 36;
        double max = 0;
        double min = Double.MAX_VALUE;
        for (Bar b : bars) {
            max = Math.max(max, Double.isNaN(b.second) ? b.value : Math.max(b.value, b.second));
            if (b.value > 0) {
                min = Math.min(min, b.value);
            }
        }
        double lo = log ? Math.pow(10, Math.floor(Math.log10(Math.max(1, min)))) : 0;
        double hi = log ? Math.pow(10, Math.ceil(Math.log10(Math.max(max, lo * 10)))) : niceCeiling(max);
        int rows = bars.size() * (log ? 2 * BAR + 8 : BAR + 8);
        // grid
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setStroke(new BasicStroke(1));
        List<Double> ticks = new ArrayList<>();
        if (log) {
            for (double v = lo; v <= hi * 1.001; v *= 10) {
                ticks.add(v);
            }
        } else {
            for (int i = 0; i <= 5; i++) {
                ticks.add(hi * i / 5);
            }
        }
        for (double v : ticks) {
            int x = plotLeft + (int) (plotWidth * position(v, lo, hi, log));
            g.setColor(new Color(0xE4, 0xE4, 0xE4));
            g.drawLine(x, y - 4, x, y + rows);
            g.setColor(Color.DARK_GRAY);
            String label = log ? Report.nanos(v) : trim(v);
            g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, y + rows + 14);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (Bar b : bars) {
            g.setColor(Color.BLACK);
            int labelWidth = g.getFontMetrics().stringWidth(b.label);
            int rowHeight = log ? 2 * BAR : BAR;
            g.drawString(b.label, plotLeft - 10 - labelWidth, y + rowHeight / 2 + 5);
            int w1 = (int) Math.max(1, plotWidth * position(b.value, lo, hi, log));
            g.setColor(color(b.transport, false));
            g.fillRect(plotLeft, y, w1, BAR);
            int end = w1;
            if (log && !Double.isNaN(b.second)) {
                int w2 = (int) Math.max(1, plotWidth * position(b.second, lo, hi, log));
                g.setColor(color(b.transport, true));
                g.fillRect(plotLeft, y + BAR, w2, BAR);
                end = Math.max(end, w2);
            }
            g.setColor(Color.BLACK);
            g.drawString(b.text, plotLeft + end + 6, y + rowHeight / 2 + 5);
            y += rowHeight + 8;
        }
        return y + 40;
    }

    private static double position(double v, double lo, double hi, boolean log) {
        if (Double.isNaN(v) || v <= 0) {
            return 0;
        }
        double p = log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi;
        return Math.max(0, Math.min(1, p));
    }

    private static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double step : new double[]{1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= v) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
