package io.shmkit.bench.suite;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The suite's pure parts: JSON, table and unit formatting, CPU lists. Nothing here is timed. */
class SuiteFormattingTest {

    @Test
    void jsonRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50", 210L);
        m.put("rate", 1.5e6);
        m.put("name", "a \"quoted\" \\ name\n");
        m.put("list", List.of(1L, "two", true));
        m.put("none", null);
        String text = Json.write(m);
        assertEquals("{\"p50\":210,\"rate\":1500000,\"name\":\"a \\\"quoted\\\" \\\\ name\\n\","
                + "\"list\":[1,\"two\",true],\"none\":null}", text);
        @SuppressWarnings("unchecked")
        Map<String, Object> back = (Map<String, Object>) Json.parse(text);
        assertEquals(210.0, back.get("p50"));
        assertEquals("a \"quoted\" \\ name\n", back.get("name"));
        assertEquals(List.of(1.0, "two", true), back.get("list"));
        assertTrue(back.containsKey("none"));
        assertEquals(Json.parse(text), Json.parse(Json.write(m, "  ")));
    }

    @Test
    void markdownTableRightAlignsFigures() {
        String t = Report.table(List.of("Transport", "p50"), List.of(List.of("shmkit", "210 ns")));
        assertEquals("| Transport | p50 |\n|---|---:|\n| shmkit | 210 ns |\n", t);
    }

    @Test
    void unitsAndRatios() {
        assertEquals("210 ns", Report.nanos(210));
        assertEquals("12.3 µs", Report.nanos(12_345));
        assertEquals("45.0 ms", Report.nanos(45_000_000));
        assertEquals("2.50 M", Report.rate(2_500_000));
        assertEquals("12.5 k", Report.rate(12_500));
        assertEquals("24.02 GB/s", Report.bytesRate(24.02e9));
        assertEquals("914 MB/s", Report.bytesRate(914e6));
        assertEquals("4 MiB", Report.binary(4 << 20));
        assertEquals("64 KiB", Report.binary(65536));
        assertEquals("1.75", Report.ratio(210.0 / 120.0));
        assertEquals("-", Report.ratio(Double.NaN));
        assertEquals("64 KiB", Report.sizeLabel(65536));
    }

    @Test
    void cpuListsAsTheKernelWritesThem() {
        assertEquals(List.of(0, 1, 2, 5, 8, 9), Machine.parseList("0-2,5,8-9"));
        assertEquals(List.of(3), Machine.parseList("3"));
    }

    @Test
    void childArguments() {
        Config c = Config.parse(new String[]{"--size", "256", "--mode=block", "--base", "b"});
        assertEquals(256, c.size());
        assertTrue(c.blocking());
        assertEquals("b", c.base());
        assertEquals(4 << 20, c.ring());
    }
}
