package io.shmkit.internal.os;

import java.util.List;

/**
 * What the OS knows of one named object.
 *
 * @param name the segment name
 * @param path where the OS keeps it
 * @param size its size in bytes
 * @param ownerUid the owner's user id
 * @param ownerName the owner's user name, or the id as text when it has no name
 * @param permissions the permission bits, e.g. 0600
 * @param lifetime the lifetime recorded on it
 * @param holderPids the processes holding it open through shmkit (a shared flock)
 */
public record ObjectInfo(String name, String path, long size, int ownerUid, String ownerName, int permissions,
                         LifetimeTag lifetime, List<Integer> holderPids) {
}
