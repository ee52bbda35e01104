package io.shmkit.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DurationsTest {

    @Test
    void parsesEachUnit() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(15), Durations.parse("15s"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
        assertEquals(Duration.ofHours(1), Durations.parse("1h"));
    }

    @Test
    void refusesBadDurationsWithAHint() {
        for (String bad : new String[] {"", "5", "5x", "-1s", "1.5s", "s", "5 s", "5sec", "0s", "0ms"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("invalid duration \"" + bad + "\""), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Durations.parse("99999999999999999999h"))
                .getMessage().contains("too long"));
        assertThrows(TypeConversionException.class, () -> new Durations.Converter().convert("5"));
    }

    @Test
    void formatsInTheLargestWholeUnitAndParsesBack() {
        for (String text : new String[] {"500ms", "1500ms", "15s", "90s", "2m", "1h"}) {
            assertEquals(text, Durations.format(Durations.parse(text)));
        }
    }
}
