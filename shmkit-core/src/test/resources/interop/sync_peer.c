/* A C program taking part in shmkit's synchronization through the documented byte layouts
 * (docs/sync.md), with C11 atomics and futex(2): no shmkit code.
 *
 *   sync_peer event-set NAME              set the named event; prints SET
 *   sync_peer event-wait NAME TIMEOUT_MS  wait for the named event; prints SET or TIMEOUT
 *   sync_peer seqlock-read NAME MILLIS    read the named seqlock for MILLIS, checking each value's
 *                                         checksum; prints "READS n TORN k VERSIONS v", followed by
 *                                         " UNFINISHED_WRITE w" when the time ran out while version w
 *                                         was being written (its writer may have died mid-write)
 *   sync_peer mutex-hold NAME             lock the named mutex, print LOCKED, unlock when a line
 *                                         arrives on stdin, print UNLOCKED
 *   sync_peer mutex-sleep NAME TIMEOUT_MS print READY; when a line arrives on stdin, sleep on the
 *                                         named mutex's lock word (held, waiters bit set) as a
 *                                         waiter does, but in one sleep of TIMEOUT_MS instead of
 *                                         slices; prints SLEEPING, then WOKEN (a FUTEX_WAKE),
 *                                         CHANGED or TIMEOUT
 *
 * All layouts are little-endian; every primitive starts with u32 magic, u16 version, u16 flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned char *map_named(const char *name, int writable, size_t *size) {
    char path[300];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, writable ? O_RDWR : O_RDONLY, 0);
    if (fd < 0) { perror("shm_open"); exit(1); }
    struct stat st;
    if (fstat(fd, &st) < 0) { perror("fstat"); exit(1); }
    void *p = mmap(NULL, st.st_size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    close(fd);
    *size = st.st_size;
    return p;
}

static void expect_magic(const unsigned char *base, const char *magic) {
    uint16_t version;
    memcpy(&version, base + 4, 2);
    if (memcmp(base, magic, 4) != 0 || version != 1) {
        fprintf(stderr, "not a version-1 %s object\n", magic);
        exit(1);
    }
}

static long futex(void *word, int op, uint32_t val, const struct timespec *timeout) {
    /* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- event: state word at 8 (bit 0 signaled, bits 1..31 generation), waiters at 12 ---- */

static int event_set(const char *name) {
    size_t size;
    unsigned char *base = map_named(name, 1, &size);
    expect_magic(base, "SEVT");
    uint16_t flags;
    memcpy(&flags, base + 6, 2);
    _Atomic uint32_t *state = (_Atomic uint32_t *) (base + 8);
    _Atomic uint32_t *waiters = (_Atomic uint32_t *) (base + 12);
    uint32_t old = atomic_load(state);
    while (!atomic_compare_exchange_weak(state, &old, (old + 2) | 1)) {
    }
    if (atomic_load(waiters) != 0) {
        futex(state, FUTEX_WAKE, (flags & 1) ? INT_MAX : 1, NULL);
    }
    printf("SET\n");
    return 0;
}

static int event_wait(const char *name, long timeout_ms) {
    size_t size;
    unsigned char *base = map_named(name, 1, &size);
    expect_magic(base, "SEVT");
    uint16_t flags;
    memcpy(&flags, base + 6, 2);
    int manual = flags & 1;
    _Atomic uint32_t *state = (_Atomic uint32_t *) (base + 8);
    _Atomic uint32_t *waiters = (_Atomic uint32_t *) (base + 12);
    int64_t deadline = now_ms() + timeout_ms;
    uint32_t first = atomic_load(state);
    atomic_fetch_add(waiters, 1);
    int released = 0;
    for (;;) {
        uint32_t s = atomic_load(state);
        if (manual) {
            if ((s & 1) || (s & ~1u) != (first & ~1u)) { released = 1; break; }
        } else if (s & 1) {
            if (atomic_compare_exchange_strong(state, &s, s & ~1u)) { released = 1; break; }
            continue;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) break;
        struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
        futex(state, FUTEX_WAIT, s, &ts);
    }
    atomic_fetch_sub(waiters, 1);
    printf(released ? "SET\n" : "TIMEOUT\n");
    return 0;
}

/* ---- seqlock: capacity at 8, sequence (u64) at 16, length at 24, payload at 128 ---- */

static uint32_t crc32(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* The test payloads: big-endian u32 length, big-endian u64 crc32 of the rest, the rest. */
static int torn(const unsigned char *b, uint32_t n) {
    if (n == 0) return 0;
    if (n < 13) return 1;
    uint32_t len = (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
    uint64_t sum = 0;
    for (int i = 4; i < 12; i++) sum = sum << 8 | b[i];
    return len != n || sum != crc32(b + 12, n - 12);
}

static int seqlock_read(const char *name, long millis) {
    size_t size;
    const unsigned char *base = map_named(name, 0, &size);
    expect_magic(base, "SSEQ");
    uint32_t capacity;
    memcpy(&capacity, base + 8, 4);
    if (128 + (size_t) capacity > size) { fprintf(stderr, "capacity beyond the segment\n"); return 1; }
    const _Atomic uint64_t *seq = (const _Atomic uint64_t *) (base + 16);
    const volatile uint32_t *length = (const volatile uint32_t *) (base + 24);
    unsigned char *buf = malloc(capacity);
    long reads = 0, bad = 0, versions = 0;
    uint64_t last = UINT64_MAX;
    uint64_t unfinished = 0;
    int64_t end = now_ms() + millis;
    while (now_ms() < end) {
        uint64_t s1, s2;
        uint32_t n;
        for (;;) {
            s1 = atomic_load_explicit(seq, memory_order_acquire);
            if (s1 & 1) goto retry;                 /* a write is in progress */
            n = *length;
            if (n > capacity) goto retry;           /* torn length: the re-check below would fail */
            /* Racy by design (the seqlock contract): the copy is kept only if the sequence did not move. */
            memcpy(buf, (const void *) (base + 128), n);
            atomic_thread_fence(memory_order_acquire);
            s2 = atomic_load_explicit(seq, memory_order_relaxed);
            if (s1 == s2) break;
        retry:
            /* Never retry past the time given: a writer killed mid-write leaves the sequence odd
             * until the next write, however long that takes. */
            if (now_ms() >= end) {
                if (s1 & 1) unfinished = (s1 >> 1) + 1;
                goto done;
            }
        }
        if (torn(buf, n)) bad++;
        if (s1 != last) { versions++; last = s1; }
        reads++;
    }
done:
    if (unfinished != 0) {
        printf("READS %ld TORN %ld VERSIONS %ld UNFINISHED_WRITE %llu\n", reads, bad, versions,
               (unsigned long long) unfinished);
    } else {
        printf("READS %ld TORN %ld VERSIONS %ld\n", reads, bad, versions);
    }
    return 0;
}

/* ---- mutex: lock word (u64) at 8: pid | waiters bit 31 | start time low 32 bits << 32 ---- */

/* The boot-time offset of this process's time namespace, in clock ticks (0 outside one). */
static int64_t boottime_offset_ticks(void) {
    FILE *f = fopen("/proc/self/timens_offsets", "r");
    if (f == NULL) return 0;                    /* no time namespaces (before Linux 5.6) */
    char clock[32];
    long long sec, nsec;
    int64_t ticks = 0;
    while (fscanf(f, "%31s %lld %lld", clock, &sec, &nsec) == 3) {
        if (strcmp(clock, "boottime") == 0) ticks = sec * 100 + nsec / 10000000;
    }
    fclose(f);
    return ticks;
}

/* Field 22 of /proc/self/stat, less the offset the kernel adds in a time namespace. */
static uint64_t start_time(void) {
    FILE *f = fopen("/proc/self/stat", "r");
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')') + 2;            /* field 3 */
    for (int field = 3; field < 22; field++) p = strchr(p, ' ') + 1;
    return strtoull(p, NULL, 10) - (uint64_t) boottime_offset_ticks();
}

#define WAITERS (1ull << 31)

static int mutex_hold(const char *name) {
    size_t size;
    unsigned char *base = map_named(name, 1, &size);
    expect_magic(base, "SMTX");
    _Atomic uint64_t *word = (_Atomic uint64_t *) (base + 8);
    _Atomic uint64_t *owner_thread = (_Atomic uint64_t *) (base + 24);
    uint64_t tag = (start_time() << 32) | (uint64_t) getpid();
    uint64_t mine = tag;
    for (;;) {
        uint64_t expected = 0;
        if (atomic_compare_exchange_strong(word, &expected, mine)) break;
        /* A complete implementation also checks between waits that the owner is alive (docs/sync.md). */
        if (!(expected & WAITERS) && !atomic_compare_exchange_strong(word, &expected, expected | WAITERS)) continue;
        struct timespec slice = { 0, 20000000 };
        futex(word, FUTEX_WAIT, (uint32_t) (expected | WAITERS), &slice);   /* the low half, little-endian */
        mine = tag | WAITERS;
    }
    atomic_store(owner_thread, (uint64_t) gettid());
    printf("LOCKED %d\n", getpid());
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) return 1;
    atomic_store(owner_thread, 0);
    if (atomic_exchange(word, 0) & WAITERS) futex(word, FUTEX_WAKE, 1, NULL);
    printf("UNLOCKED\n");
    return 0;
}

static int mutex_sleep(const char *name, long timeout_ms) {
    size_t size;
    unsigned char *base = map_named(name, 1, &size);
    expect_magic(base, "SMTX");
    _Atomic uint64_t *word = (_Atomic uint64_t *) (base + 8);
    printf("READY\n");
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL) return 1;
    uint64_t w = atomic_load(word);
    if (w == 0 || !(w & WAITERS)) { printf("NOT_CONTENDED\n"); return 1; }
    printf("SLEEPING\n");
    fflush(stdout);
    struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000 };
    long r = futex(word, FUTEX_WAIT, (uint32_t) w, &ts);
    printf(r == 0 ? "WOKEN\n" : errno == ETIMEDOUT ? "TIMEOUT\n" : "CHANGED\n");
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "event-set") == 0) return event_set(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "event-wait") == 0) return event_wait(argv[2], atol(argv[3]));
    if (argc >= 4 && strcmp(argv[1], "seqlock-read") == 0) return seqlock_read(argv[2], atol(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "mutex-hold") == 0) return mutex_hold(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "mutex-sleep") == 0) return mutex_sleep(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: %s event-set|event-wait|seqlock-read|mutex-hold|mutex-sleep NAME [...]\n", argv[0]);
    return 2;
}
