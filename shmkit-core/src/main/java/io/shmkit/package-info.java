/**
 * shmkit: named shared memory for Java.
 *
 * <p>Start with {@link io.shmkit.SharedMemory}: create or open a {@link io.shmkit.Segment} by
 * name, map {@link io.shmkit.View}s of it, and close them when done.
 */
package io.shmkit;
