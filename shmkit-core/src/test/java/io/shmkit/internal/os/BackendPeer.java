package io.shmkit.internal.os;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * A second process for {@link OsBackendContract}, talking to the platform's backend directly (no
 * public API in between). It first prints {@code READY <pid> <start time> <pid namespace>}, as it
 * sees them itself, then reads commands from stdin, one per line:
 *
 * <pre>
 * create NAME SIZE   createShm with lifetime LAST_CLOSE, held until the process ends; every byte
 *                    of it set to {@value #FILL}; prints OK created
 * exit               prints OK bye and exits 0 (so does the end of stdin)
 * </pre>
 * Failures are answered {@code ERR <exception>}.
 */
public final class BackendPeer {
    /** What {@code create} fills an object with, so that a later create can tell a fresh object. */
    public static final byte FILL = 0x5a;

    private BackendPeer() {
    }

    public static void main(String[] args) throws Exception {
        OsBackend os = OsBackend.current();
        int pid = os.currentPid();
        System.out.println("READY " + pid + " " + os.processStartTime(pid) + " " + os.pidNamespaceId());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // Mappings live until the process ends: a holder that is killed never closes anything.
        Arena arena = Arena.ofShared();
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.split(" ");
            try {
                switch (w[0]) {
                    case "create" -> {
                        long size = Long.parseLong(w[2]);
                        NativeHandle h = os.createShm(w[1], size, 0600, LifetimeTag.LAST_CLOSE);
                        MemorySegment m = os.map(h, 0, size, 1, arena);
                        m.fill(FILL);
                        System.out.println("OK created");
                    }
                    case "exit" -> {
                        System.out.println("OK bye");
                        return;
                    }
                    default -> System.out.println("ERR unknown command " + w[0]);
                }
            } catch (Exception e) {
                System.out.println("ERR " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }
}
