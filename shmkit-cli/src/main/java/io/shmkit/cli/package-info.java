/**
 * The {@code shm} command: named shared memory from a shell. {@link io.shmkit.cli.Shm} is the
 * entry point; each subcommand is one class here.
 */
package io.shmkit.cli;
