package io.shmkit.testing;

import io.shmkit.Access;
import io.shmkit.Lifetime;
import io.shmkit.Segment;
import io.shmkit.SegmentOptions;
import io.shmkit.SharedMemory;
import io.shmkit.View;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A second process for multi-process tests: reads commands from stdin, one per line, acts on one
 * segment through one view of all of it (so copy-on-write changes stay visible to later reads),
 * and answers on stdout ({@code OK ...}, {@code READ <text>} or {@code ERR <exception>}).
 *
 * <pre>
 * create NAME SIZE [persistent]   open NAME [READ_ONLY|READ_WRITE|COPY_ON_WRITE]
 * write OFFSET TEXT               read OFFSET
 * close                           exit
 * listed NAME                     whether SharedMemory.list() has NAME ("OK listed true|false")
 * reclaim-while NAME              calls SharedMemory.reclaimStale() over and over while segment
 *                                 NAME exists ("OK reclaiming" first, "OK reclaimed N" after)
 * </pre>
 */
public final class SegmentPeer {
    private SegmentPeer() {
    }

    public static void main(String[] args) throws Exception {
        Segment segment = null;
        View view = null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("READY " + ProcessHandle.current().pid());
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.split(" ", 3);
            try {
                switch (w[0]) {
                    case "create" -> {
                        SegmentOptions o = SegmentOptions.defaults();
                        if (w.length > 2 && w[2].endsWith("persistent")) {
                            o = o.lifetime(Lifetime.PERSISTENT);
                        }
                        segment = SharedMemory.create(w[1], Long.parseLong(w[2].split(" ")[0]), o);
                        view = segment.map();
                        System.out.println("OK created " + segment.size());
                    }
                    case "open" -> {
                        Access a = w.length > 2 ? Access.valueOf(w[2]) : Access.READ_WRITE;
                        segment = SharedMemory.open(w[1], a);
                        view = segment.map();
                        System.out.println("OK opened " + segment.size());
                    }
                    case "write" -> {
                        view.putString(Long.parseLong(w[1]), w[2]);
                        System.out.println("OK written");
                    }
                    case "read" -> {
                        System.out.println("READ " + view.getString(Long.parseLong(w[1])));
                    }
                    case "close" -> {
                        segment.close();
                        System.out.println("OK closed");
                    }
                    case "listed" -> {
                        boolean listed = SharedMemory.list().stream().anyMatch(i -> i.name().equals(w[1]));
                        System.out.println("OK listed " + listed);
                    }
                    case "reclaim-while" -> {
                        System.out.println("OK reclaiming");
                        long rounds = 0;
                        while (SharedMemory.exists(w[1])) {
                            SharedMemory.reclaimStale();
                            rounds++;
                        }
                        System.out.println("OK reclaimed " + rounds);
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
