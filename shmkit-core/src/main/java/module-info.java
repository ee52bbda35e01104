/**
 * shmkit: named shared memory, interprocess synchronization and message channels, through the
 * Foreign Function and Memory API. Only the API packages are exported.
 */
module io.shmkit {
    exports io.shmkit;
    exports io.shmkit.channel;
}
