package io.shmkit.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteSizesTest {

    @Test
    void parsesBytesAndBinarySuffixes() {
        assertEquals(4096, ByteSizes.parse("4096"));
        assertEquals(4096, ByteSizes.parse("4K"));
        assertEquals(4096, ByteSizes.parse("4k"));
        assertEquals(4096, ByteSizes.parse("4KiB"));
        assertEquals(4096, ByteSizes.parse("4KB"));
        assertEquals(7, ByteSizes.parse("7B"));
        assertEquals(1L << 20, ByteSizes.parse("1M"));
        assertEquals(5L << 30, ByteSizes.parse("5G"));
        assertEquals(2L << 40, ByteSizes.parse("2T"));
        assertEquals(0, ByteSizes.parse("0"));
    }

    @Test
    void refusesWhatIsNotASize() {
        for (String bad : new String[] {"", "K", "-1", "1.5M", "4X", "4 K", "4iB", "0x10", "4KK"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse(bad), bad);
            assertTrue(e.getMessage().contains("e.g. 4096, 4K"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("9999999999999T"))
                .getMessage().contains("too large"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("99999999999999999999"))
                .getMessage().contains("too large"));
    }

    @Test
    void sizeOptionsNeedAtLeastOneByteButOffsetsMayBeZero() {
        assertThrows(TypeConversionException.class, () -> new ByteSizes.SizeConverter().convert("0"));
        assertEquals(1024L, new ByteSizes.SizeConverter().convert("1K"));
        assertEquals(0L, new ByteSizes.OffsetConverter().convert("0"));
    }

    @Test
    void printsSizesForPeople() {
        assertEquals("0 B", ByteSizes.human(0));
        assertEquals("1023 B", ByteSizes.human(1023));
        assertEquals("4 KiB", ByteSizes.human(4096));
        assertEquals("1.5 KiB", ByteSizes.human(1536));
        assertEquals("1 MiB", ByteSizes.human(1 << 20));
        assertEquals("5 GiB", ByteSizes.human(5L << 30));
        assertEquals("2 TiB", ByteSizes.human(2L << 40));
        assertEquals("2048 TiB", ByteSizes.human(2L << 50));
    }
}
