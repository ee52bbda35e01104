package io.shmkit.testing;

import io.shmkit.SharedMemory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Unique segment names for tests, and their removal afterwards, also when a test fails.
 * Use one instance per test class: {@code @AfterEach void cleanup() { names.removeAll(); }}.
 */
public final class TestSegments {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final List<String> names = new ArrayList<>();

    /** A name no other test (in this or another JVM) uses, remembered for removal. */
    public synchronized String unique(String label) {
        String name = "shmkit-test-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + "-" + label;
        names.add(name);
        return name;
    }

    /** Removes every segment named by {@link #unique} that still exists. */
    public synchronized void removeAll() throws IOException {
        for (String n : names) {
            SharedMemory.remove(n);
        }
        names.clear();
    }
}
