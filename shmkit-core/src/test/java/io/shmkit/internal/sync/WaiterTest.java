package io.shmkit.internal.sync;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wait loop's own bookkeeping, which every primitive's contended path relies on. */
class WaiterTest {

    /**
     * A wait that has parked 2^31 times (a waiter woken every 10 µs for six hours) must still
     * count as one that slept: the count saturates instead of turning negative.
     */
    @Test
    void theRoundCountSaturates() throws Exception {
        Waiter waiter = new Waiter(-1, false);
        Field round = Waiter.class.getDeclaredField("round");
        round.setAccessible(true);
        round.setInt(waiter, Integer.MAX_VALUE - 1);
        waiter.park(null, 0); // no word: a backoff park of at most 2 ms
        assertEquals(Integer.MAX_VALUE, waiter.rounds());
        waiter.park(null, 0);
        assertEquals(Integer.MAX_VALUE, waiter.rounds(), "still counted as having slept");
        assertTrue(waiter.rounds() > 0);
        waiter.finish();
    }
}
