/*
 * The floor of the shmkit benchmark suite, built by it with the system compiler (cc -O2).
 *
 *   floor pingpong SIZE WARMUP_ROUNDS ROUNDS MAX_SECONDS spin|futex CPU_PING CPU_PONG [PAUSE_NS]
 *       Two processes (fork) share one MAP_SHARED anonymous mapping. Each direction is one
 *       64-byte-aligned mailbox: a 32-bit sequence word, then SIZE bytes of payload. The sender
 *       copies the payload, then stores the sequence with release semantics; the receiver spins
 *       on it (acquire) and reads the payload's first and last 8 bytes, as the Java receivers do.
 *       "futex": the receiver spins 200 times, then sleeps on the sequence word (FUTEX_WAIT); the
 *       sender wakes it only when it says it waits (store, full fence, load), like shmkit.
 *       CPU_* < 0: no pinning. PAUSE_NS > 0: the pinger sleeps that long (nanosleep) between round
 *       trips, so that the other side goes idle and must be woken. Prints one line: RESULT {json}.
 *   floor ringpong SIZE WARMUP_ROUNDS ROUNDS MAX_SECONDS spin|futex CPU_PING CPU_PONG PAUSE_NS RING
 *       The same, but each direction is a RING-byte ring, as in a channel: message n is a record
 *       (8-byte header: sequence and "waiting" words, then SIZE bytes, rounded up to 8) right
 *       after message n-1, starting over at the ring's start when the next record would not fit.
 *       The least any ring can cost here: no zeroing, no positions, no padding records, no checks;
 *       records under 1 KiB touch the line 256 bytes ahead after each send, as shmkit does.
 *   floor memcpy SIZE SECONDS REGION
 *       One thread copies SIZE-byte blocks from one buffer into a REGION-byte ring, block after
 *       block, for SECONDS after a 0.3 s warm-up: the single-thread memcpy bandwidth.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mailbox {
    _Alignas(64) uint32_t seq;
    uint32_t waiting;
    unsigned char payload[];
};

static int blocking;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static volatile uint64_t sink;

/* A record in a ring: the mailbox's words without its alignment (records are 8-byte aligned). */
struct record {
    uint32_t seq;
    uint32_t waiting;
    unsigned char payload[];
};

/* One direction: a mailbox (ring == 0) or a ring of records. */
struct lane {
    unsigned char *base;
    size_t ring, pos, stride;
};

static struct record *next_record(struct lane *l) {
    if (l->ring == 0) return (struct record *) l->base;
    if (l->pos + l->stride > l->ring) l->pos = 0;
    struct record *r = (struct record *) (l->base + l->pos);
    l->pos += l->stride;
    return r;
}

static void send(struct lane *l, const unsigned char *src, size_t size, uint32_t seq) {
    struct record *m = next_record(l);
    memcpy(m->payload, src, size);
    memcpy(m->payload, &seq, sizeof seq); /* the payload carries the sequence, first and last */
    memcpy(m->payload + size - sizeof seq, &seq, sizeof seq);
    __atomic_store_n(&m->seq, seq, __ATOMIC_RELEASE);
    if (l->ring != 0 && l->stride < 1024) {
        /* Touch ahead, as shmkit's single producers do: store into the word 256 bytes beyond the
         * next record, so that its cache line is this core's before the message that needs it is
         * written (measured here: 180 ns per 32-byte round trip without, 130 with). */
        size_t ahead = (l->pos + 256) % l->ring & ~(size_t) 7;
        __atomic_store_n((uint64_t *) (l->base + ahead), 0, __ATOMIC_RELAXED);
    }
    if (blocking) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&m->waiting, __ATOMIC_RELAXED)) {
            syscall(SYS_futex, &m->seq, FUTEX_WAKE, 1, NULL, NULL, 0);
        }
    }
}

/* Waits for message seq; returns its record, whose payload the caller may read further. */
static struct record *receive(struct lane *l, size_t size, uint32_t seq) {
    struct record *m = next_record(l);
    int spins = 0;
    while (__atomic_load_n(&m->seq, __ATOMIC_ACQUIRE) != seq) {
        if (!blocking || spins++ < 200) {
            cpu_relax();
            continue;
        }
        __atomic_fetch_add(&m->waiting, 1, __ATOMIC_SEQ_CST);
        uint32_t v = __atomic_load_n(&m->seq, __ATOMIC_SEQ_CST);
        if (v != seq) syscall(SYS_futex, &m->seq, FUTEX_WAIT, v, NULL, NULL, 0);
        __atomic_fetch_sub(&m->waiting, 1, __ATOMIC_SEQ_CST);
    }
    uint64_t first, last;
    memcpy(&first, m->payload, sizeof first);
    memcpy(&last, m->payload + size - sizeof last, sizeof last);
    sink += first + last;
    return m;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *v, size_t n, double p) {
    size_t i = (size_t) (p / 100.0 * (double) n);
    if (i >= n) i = n - 1;
    return v[i];
}

static int pingpong(size_t size, long warmup, long rounds, double max_seconds, int cpu_ping, int cpu_pong,
                    long pause_ns, size_t ring) {
    size_t stride = (sizeof(struct record) + size + 7) & ~(size_t) 7;
    if (ring != 0 && ring < stride) ring = stride;
    size_t box = ring != 0 ? (ring + 63) & ~(size_t) 63 : (sizeof(struct mailbox) + size + 63) & ~(size_t) 63;
    unsigned char *shared = mmap(NULL, 2 * box + 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) { perror("mmap"); return 1; }
    struct lane ping = {shared, ring, 0, stride}, pong = {shared + box, ring, 0, stride};
    uint64_t *pong_cpu = (uint64_t *) (shared + 2 * box), *pong_wall = pong_cpu + 1;
    unsigned char *src = calloc(1, size);
    uint64_t *samples = malloc(sizeof(uint64_t) * (size_t) rounds);
    if (!src || !samples) { perror("malloc"); return 1; }
    long total = warmup + rounds;
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        pin(cpu_pong);
        uint64_t c0 = 0, w0 = 0;
        for (uint32_t i = 1;; i++) {
            struct record *r = receive(&ping, size, i);
            if (i == 1) { c0 = cpu_ns(); w0 = now_ns(); }
            uint32_t stop;
            memcpy(&stop, r->payload + 4, sizeof stop);
            send(&pong, src, size, i);
            if (stop) break;
        }
        *pong_cpu = cpu_ns() - c0;
        *pong_wall = now_ns() - w0;
        _exit(0);
    }
    pin(cpu_ping);
    long n = 0;
    uint64_t deadline = 0, t_start = 0, c_start = 0;
    for (uint32_t i = 1;; i++) {
        int last = (long) i == total || (deadline && (n & 1023) == 0 && now_ns() > deadline);
        uint64_t t0 = now_ns();
        if (last) { uint32_t one = 1; memcpy(src + 4, &one, 4); }
        send(&ping, src, size, i);
        receive(&pong, size, i);
        uint64_t t1 = now_ns();
        if ((long) i == warmup) {
            t_start = now_ns();
            c_start = cpu_ns();
            deadline = t_start + (uint64_t) (max_seconds * 1e9);
        } else if ((long) i > warmup) {
            samples[n++] = t1 - t0;
        }
        if (last) break;
        if (pause_ns > 0) {
            struct timespec ts = {pause_ns / 1000000000L, pause_ns % 1000000000L};
            nanosleep(&ts, NULL);
        }
    }
    uint64_t wall = now_ns() - t_start, cpu = cpu_ns() - c_start;
    int status;
    waitpid(child, &status, 0);
    qsort(samples, (size_t) n, sizeof samples[0], cmp);
    double sum = 0;
    for (long i = 0; i < n; i++) sum += (double) samples[i];
    printf("RESULT {\"count\":%ld,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu,"
           "\"mean\":%.1f,\"wallNanos\":%llu,\"pingCpuNanos\":%llu,\"pongCpuNanos\":%llu,\"pongWallNanos\":%llu}\n",
           n, (unsigned long long) pct(samples, n, 50), (unsigned long long) pct(samples, n, 90),
           (unsigned long long) pct(samples, n, 99), (unsigned long long) pct(samples, n, 99.9),
           (unsigned long long) samples[n - 1], n ? sum / (double) n : 0.0, (unsigned long long) wall,
           (unsigned long long) cpu, (unsigned long long) *pong_cpu, (unsigned long long) *pong_wall);
    return 0;
}

static int bandwidth(size_t size, double seconds, size_t region) {
    if (region < size) region = size;
    unsigned char *src = aligned_alloc(64, size), *dst = aligned_alloc(64, region);
    if (!src || !dst) { perror("malloc"); return 1; }
    memset(src, 1, size);
    memset(dst, 0, region);
    size_t blocks = region / size, b = 0;
    uint64_t start = now_ns(), warm_end = start + 300000000ull, t_start = 0, copies = 0;
    uint64_t end = warm_end + (uint64_t) (seconds * 1e9);
    for (;;) {
        memcpy(dst + b * size, src, size);
        __asm__ __volatile__("" ::: "memory");
        if (++b == blocks) b = 0;
        if (t_start) copies++;
        if ((copies & 63) == 0) {
            uint64_t t = now_ns();
            if (!t_start && t >= warm_end) { t_start = t; copies = 0; }
            else if (t_start && t >= end) break;
        }
    }
    uint64_t wall = now_ns() - t_start;
    double bytes = (double) copies * (double) size;
    printf("RESULT {\"copies\":%llu,\"bytes\":%.0f,\"wallNanos\":%llu,\"gbPerSecond\":%.3f}\n",
           (unsigned long long) copies, bytes, (unsigned long long) wall, bytes / (double) wall);
    return 0;
}

int main(int argc, char **argv) {
    if ((argc == 9 || argc == 10) && strcmp(argv[1], "pingpong") == 0) {
        blocking = strcmp(argv[6], "futex") == 0;
        return pingpong((size_t) atol(argv[2]), atol(argv[3]), atol(argv[4]), atof(argv[5]),
                        atoi(argv[7]), atoi(argv[8]), argc == 10 ? atol(argv[9]) : 0, 0);
    }
    if (argc == 11 && strcmp(argv[1], "ringpong") == 0) {
        blocking = strcmp(argv[6], "futex") == 0;
        return pingpong((size_t) atol(argv[2]), atol(argv[3]), atol(argv[4]), atof(argv[5]),
                        atoi(argv[7]), atoi(argv[8]), atol(argv[9]), (size_t) atol(argv[10]));
    }
    if (argc == 5 && strcmp(argv[1], "memcpy") == 0) {
        return bandwidth((size_t) atol(argv[2]), atof(argv[3]), (size_t) atol(argv[4]));
    }
    fprintf(stderr, "usage: floor pingpong SIZE WARMUP ROUNDS MAX_SECONDS spin|futex CPU_PING CPU_PONG [PAUSE_NS]\n"
                    "       floor ringpong SIZE WARMUP ROUNDS MAX_SECONDS spin|futex CPU_PING CPU_PONG PAUSE_NS RING\n"
                    "       floor memcpy SIZE SECONDS REGION\n");
    return 2;
}
