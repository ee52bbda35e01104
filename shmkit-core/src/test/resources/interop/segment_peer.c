/* Interop peer for shmkit's tests: POSIX shm_open/mmap, as the classic tutorials use them.
 *
 *   segment_peer read NAME          open NAME, print "READ <text at 0>", write a reply at 1024
 *   segment_peer create NAME SIZE   create NAME, write at 0, print READY, wait for a line on stdin,
 *                                   print "READ <text at 1024>", then shm_unlink NAME
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLY_OFFSET 1024

static int fail(const char *what) {
    perror(what);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s read|create NAME [SIZE]\n", argv[0]);
        return 2;
    }
    char path[300];
    snprintf(path, sizeof path, "/%s", argv[2]);
    if (strcmp(argv[1], "read") == 0) {
        int fd = shm_open(path, O_RDWR, 0);
        if (fd < 0) return fail("shm_open");
        struct stat st;
        if (fstat(fd, &st) < 0) return fail("fstat");
        char *buf = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (buf == MAP_FAILED) return fail("mmap");
        printf("SIZE %lld\n", (long long) st.st_size);
        printf("READ %s\n", buf);
        strcpy(buf + REPLY_OFFSET, "hello from C");
        munmap(buf, st.st_size);
        close(fd);
        printf("OK\n");
        return 0;
    }
    if (strcmp(argv[1], "create") == 0 && argc > 3) {
        size_t size = strtoull(argv[3], NULL, 10);
        int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0) return fail("shm_open");
        if (ftruncate(fd, size) < 0) return fail("ftruncate");
        char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (buf == MAP_FAILED) return fail("mmap");
        strcpy(buf, "C made this");
        printf("READY\n");
        fflush(stdout);
        char line[64];
        if (fgets(line, sizeof line, stdin) == NULL) return fail("stdin");
        printf("READ %s\n", buf + REPLY_OFFSET);
        munmap(buf, size);
        close(fd);
        shm_unlink(path);
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
