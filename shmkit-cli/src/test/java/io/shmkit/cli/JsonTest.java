package io.shmkit.cli;

import io.shmkit.Lifetime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {

    @Test
    void writesEachKindOfValue() {
        Map<String, Object> o = Json.object();
        o.put("s", "text");
        o.put("n", 42L);
        o.put("i", -7);
        o.put("t", true);
        o.put("null", null);
        o.put("list", List.of(1, 2));
        o.put("empty", Map.of());
        o.put("lifetime", Lifetime.PERSISTENT);
        assertEquals("{\"s\":\"text\",\"n\":42,\"i\":-7,\"t\":true,\"null\":null,\"list\":[1,2],\"empty\":{},"
                + "\"lifetime\":\"PERSISTENT\"}", Json.write(o));
    }

    @Test
    void escapesStringsSoTheyParseBack() {
        String nasty = "quote\" backslash\\ newline\n tab\t cr\r nul\0 bell\u0007 ü € \uD83D\uDE00 \u2028";
        assertEquals(nasty, MiniJson.parse(Json.write(nasty)));
        Map<String, Object> o = MiniJson.object(Json.write(Map.of(nasty, List.of(nasty))));
        assertEquals(List.of(nasty), o.get(nasty));
    }

    @Test
    void keepsInsertionOrder() {
        Map<String, Object> o = Json.object();
        for (String k : new String[] {"z", "a", "m"}) {
            o.put(k, k);
        }
        assertEquals(new ArrayList<>(List.of("z", "a", "m")), new ArrayList<>(MiniJson.object(Json.write(o)).keySet()));
    }

    @Test
    void writesDoublesAndNullForWhatJsonCannotHold() {
        assertEquals("[1.5,0.0,-2.25,12699700.951,10000000000,null,null]", Json.write(List.of(1.5, 0.0, -2.25,
                1.2699700951E7, 1e10, Double.NaN, Double.POSITIVE_INFINITY)));
        assertEquals(Arrays.asList(1.5, 0.001, null), MiniJson.parse(Json.write(List.of(1.5, 1e-3, Double.NaN))));
        assertEquals(1.5e-7, MiniJson.parse("1.5e-7"));
    }

    @Test
    void refusesTypesItCannotWrite() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(1.5f));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Arrays.asList(new Object())));
    }
}
