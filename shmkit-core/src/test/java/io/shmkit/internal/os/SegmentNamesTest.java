package io.shmkit.internal.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentNamesTest {

    @Test
    void plainNamesPassUnchanged() {
        assertEquals("demo", SegmentNames.toOsName("demo", 255));
        assertEquals("my segment-1_x.y", SegmentNames.toOsName("my segment-1_x.y", 255));
        assertEquals("données", SegmentNames.toOsName("données", 255));
    }

    @Test
    void win32PrefixesAreStripped() {
        assertEquals("demo", SegmentNames.toOsName("Local\\demo", 255));
        assertEquals("demo", SegmentNames.toOsName("Global\\demo", 255));
        assertEquals("demo", SegmentNames.toOsName("global\\demo", 255));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''|it is empty",
        "Local\\|it is empty",
        "/demo|contains '/'",
        "a/b|contains '/'",
        "../etc/passwd|contains '/'",
        "..|contains '..'",
        "a..b|contains '..'",
        ".hidden|starts with '.'",
        "a\\b|contains '\\'",
        "Global\\Local\\x|contains '\\'",
    })
    void invalidNamesAreRejectedWithTheReason(String name, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SegmentNames.toOsName(name, 255));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().startsWith("invalid segment name"), e.getMessage());
    }

    @Test
    void controlAndInvisibleCharactersAreRejected() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SegmentNames.toOsName("a\0b", 255))
                .getMessage().contains("NUL"));
        for (String bad : new String[] {"a\nb", "a\tb", "a\u007fb", "a\u200bb", "a\u2028b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SegmentNames.toOsName(bad, 255));
            assertTrue(e.getMessage().contains("non-printable"), e.getMessage());
        }
    }

    @Test
    void nullIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> SegmentNames.toOsName(null, 255));
    }

    @Test
    void lengthIsCountedInUtf8Bytes() {
        assertEquals(255, SegmentNames.toOsName("x".repeat(255), 255).length());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SegmentNames.toOsName("x".repeat(256), 255));
        assertTrue(e.getMessage().contains("256 bytes"), e.getMessage());
        // 128 two-byte characters: 256 bytes
        assertThrows(IllegalArgumentException.class, () -> SegmentNames.toOsName("é".repeat(128), 255));
    }
}
