package io.shmkit;

import java.util.List;

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
 */
public record SegmentInfo(String name, String path, long size, int ownerUid, String ownerName, int permissions,
                          Lifetime lifetime, boolean managed, List<Integer> holderPids) {

    /**
     * A copy of the given values; {@code holderPids} is copied.
     */
    public SegmentInfo {
        holderPids = List.copyOf(holderPids);
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
