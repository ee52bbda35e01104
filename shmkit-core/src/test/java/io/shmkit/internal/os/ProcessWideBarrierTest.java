package io.shmkit.internal.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The asymmetric fence channels rely on (membarrier(2) on Linux): what the kernel offers, and that
 * joining and issuing barriers work on it. Linux has had the expedited global commands since 4.16;
 * a kernel without them must make both calls answer false, never throw.
 */
@EnabledOnOs(OS.LINUX)
class ProcessWideBarrierTest {

    private static final int NEEDED = LibC.MEMBARRIER_CMD_GLOBAL_EXPEDITED | LibC.MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;

    @Test
    void barriersWorkWhereTheKernelOffersThem() {
        long offered = LibC.membarrier(LibC.MEMBARRIER_CMD_QUERY);
        boolean available = offered >= 0 && (offered & NEEDED) == NEEDED;
        OsBackend os = OsBackend.current();
        assertEquals(available, os.joinProcessWideBarriers(), "joining, with the kernel offering 0x" + Long.toHexString(offered));
        assertEquals(available, os.joinProcessWideBarriers(), "joining again changes nothing");
        for (int i = 0; i < 3; i++) {
            assertEquals(available, os.processWideBarrier(), "barrier " + i);
        }
    }

    @Test
    void anUnknownCommandIsAnErrnoNotAnException() {
        assertTrue(LibC.membarrier(1 << 30) < 0);
    }
}
