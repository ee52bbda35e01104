package io.shmkit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What is known about one named segment, as {@link SharedMemory#list()} and
 * {@link SharedMemory#info(String)} report it.
 *
 * @param name the segment's name (as other programs open it)
 * @param path where the OS keeps it, e.g. {@code /dev/shm/demo}
 * @param size its size in bytes
 * @param ownerUid the owner's user id
 * @param ownerName the owner's user name (the id as text when it has none)
 * @param permissions the permission bits, e.g. {@code 0600}
 * @param lifetime its lifetime; segments made by other programs are {@link Lifetime#PERSISTENT}
 * @param managed true when shmkit created it (and so manages its lifetime), false for segments of other programs
 * @param holderPids the processes holding it open through shmkit (each holds a shared {@code flock} on it)
 * @param kind what its first bytes say it holds: a named synchronization object, or plain data
 * @param state for a synchronization object, named values describing its state, in a stable order
 *              (for a mutex: {@code locked}, {@code ownerPid}, {@code ownerAlive}, {@code consistent},
 *              ...; see {@code docs/sync.md}); empty for plain data. A snapshot, read without
 *              locking anything.
 * @param stateSummary the state in words, e.g. {@code locked by pid 1234 (alive)}; empty for plain data
 */
public record SegmentInfo(String name, String path, long size, int ownerUid, String ownerName, int permissions,
                          Lifetime lifetime, boolean managed, List<Integer> holderPids, SegmentKind kind,
                          Map<String, Object> state, String stateSummary) {

    /**
     * A copy of the given values; {@code holderPids} and {@code state} are copied.
     */
    public SegmentInfo {
        holderPids = List.copyOf(holderPids);
        kind = kind == null ? SegmentKind.DATA : kind;
        state = Collections.unmodifiableMap(new LinkedHashMap<>(state));
        stateSummary = stateSummary == null ? "" : stateSummary;
    }

    /**
     * The description of a segment of plain data (kind {@link SegmentKind#DATA}, no state).
     *
     * @param name the segment's name
     * @param path where the OS keeps it
     * @param size its size in bytes
     * @param ownerUid the owner's user id
     * @param ownerName the owner's user name
     * @param permissions the permission bits
     * @param lifetime its lifetime
     * @param managed whether shmkit created it
     * @param holderPids the processes holding it open through shmkit
     */
    public SegmentInfo(String name, String path, long size, int ownerUid, String ownerName, int permissions,
                       Lifetime lifetime, boolean managed, List<Integer> holderPids) {
        this(name, path, size, ownerUid, ownerName, permissions, lifetime, managed, holderPids, SegmentKind.DATA,
                Map.of(), "");
    }

    /** @return how many handles hold the segment open through shmkit */
    public int holders() {
        return holderPids.size();
    }

    /**
     * A segment is stale when it should have been removed with its last holder, but every holder
     * died: the next create or open of its name reclaims it.
     *
     * @return true for a stale segment
     */
    public boolean stale() {
        return managed && lifetime == Lifetime.UNTIL_LAST_CLOSE && holderPids.isEmpty();
    }

    /** @return the permissions as {@code ls -l} shows them, e.g. {@code rw-------} */
    public String permissionsString() {
        StringBuilder b = new StringBuilder(9);
        String rwx = "rwx";
        for (int bit = 8; bit >= 0; bit--) {
            b.append((permissions & (1 << bit)) != 0 ? rwx.charAt(2 - bit % 3) : '-');
        }
        return b.toString();
    }
}
