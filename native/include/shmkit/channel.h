/*
 * shmkit/channel.h - read shmkit message channels from C or C++ (header only, C11 or C++11, Linux).
 *
 * A shmkit channel is a ring of variable-length messages in a named shared memory segment
 * (/dev/shm/NAME), written by Java producers (io.shmkit.channel.ChannelProducer). This header lets
 * a C program take the part of the channel's consumer (one-to-one, many-to-one) or of one of its
 * subscribers (publish-subscribe), following exactly the protocol of the Java consumer, so that
 * Java and C participants can be mixed, killed and restarted in any order. The layout and the
 * protocol are described in docs/channels.md; the offsets below are checked at compile time.
 *
 *     #include <shmkit/channel.h>
 *
 *     static int on_message(void *ctx, int32_t type, const void *payload, uint32_t length) {
 *         printf("type %d, %u bytes\n", type, length);
 *         return 0;                               // consumed; nonzero: keep it for the next poll
 *     }
 *
 *     shmkit_channel ch;
 *     if (shmkit_channel_open(&ch, "prices", 0) < 0 || shmkit_channel_attach_consumer(&ch) < 0) {
 *         fprintf(stderr, "%s\n", ch.error);      // says what is wrong, in words
 *         shmkit_channel_close(&ch);
 *         return 1;
 *     }
 *     while (running) {
 *         if (shmkit_channel_poll(&ch, on_message, NULL, 64) == 0) {
 *             shmkit_channel_await(&ch, 100 * 1000000LL);  // sleeps in the kernel until a commit
 *         }
 *     }
 *     shmkit_channel_close(&ch);                  // leaves the slot; the position stays for a successor
 *
 * Build with a C11 compiler and POSIX/GNU declarations enabled, for example
 *     cc -std=c11 -D_GNU_SOURCE -I native/include prog.c -lrt
 * or with a C++11 (or later) one, which declares them by itself:
 *     c++ -std=c++17 -I native/include prog.cpp -lrt
 * (-lrt only matters for glibc older than 2.34, where shm_open lived there).
 *
 * Every function returns 0 (or a count) on success and a negative SHMKIT_E* code on failure, with
 * a sentence in ch->error. A segment that is not a channel, is of a newer layout version, or is
 * corrupted is reported, never trusted: every position and length read from shared memory is
 * checked before it is used to address memory. A segment truncated by another process while it is
 * mapped: shmkit_channel_await checks the segment's size before it reads and after each sleep, and
 * reports it (SHMKIT_ECORRUPTED, "was truncated under this process"); a read of the missing pages
 * elsewhere (poll, or a truncation between that check and the read) raises SIGBUS, as it would for
 * any mmap user.
 *
 * Memory ordering follows the Java side access for access: Java's getAcquire/setRelease are
 * __ATOMIC_ACQUIRE/__ATOMIC_RELEASE, getVolatile/compareAndSet/getAndAdd are __ATOMIC_SEQ_CST,
 * setOpaque is __ATOMIC_RELAXED and VarHandle.fullFence() is __atomic_thread_fence(SEQ_CST), so
 * the code is correct on weakly ordered CPUs (AArch64) as well as on x86-64.
 *
 * One shmkit_channel is used by one thread at a time. It holds a shared flock(2) on the segment,
 * as every shmkit handle does, so a channel whose lifetime is "until last close" stays while this
 * program has it open, and is removed by whoever closes it last (this program included).
 */
#ifndef SHMKIT_CHANNEL_H
#define SHMKIT_CHANNEL_H

#if !defined(__linux__)
#error "shmkit/channel.h supports Linux only: it relies on futex(2) and /proc"
#endif
/* Strict modes (-std=c11) and explicit _POSIX_C_SOURCE/_XOPEN_SOURCE hide syscall(), flock() and
 * S_ISVTX, which only _DEFAULT_SOURCE (implied by _GNU_SOURCE) declares. (g++ defines _GNU_SOURCE.) */
#if !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) \
        && (defined(__STRICT_ANSI__) || defined(_POSIX_C_SOURCE) || defined(_XOPEN_SOURCE))
#error "shmkit/channel.h needs POSIX and GNU declarations: compile with -D_GNU_SOURCE (or -std=gnu11)"
#endif
#if !defined(__cplusplus) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#error "shmkit/channel.h needs C11 (or C++11 and later)"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* The header compiles as C11 and as C++11 and later (g++/clang++; it uses the anonymous struct in
 * a union that GNU C++ accepts), with the same meaning: no implicit conversions from void *, no
 * designated initializers, every function static inline (so extern "C" changes no linkage). */
#if defined(__cplusplus)
#define SHMKIT__STATIC_ASSERT(condition, message) static_assert(condition, message)
#define SHMKIT__EXTENSION __extension__
extern "C" {
#else
#define SHMKIT__STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#define SHMKIT__EXTENSION
#endif

SHMKIT__STATIC_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "shmkit channels are little-endian");

/* ------------------------------------------------------------------------------------------- */
/* Layout, version 1 (io.shmkit.internal.layout.ChannelDescriptor, SlotDescriptor,               */
/* RecordDescriptor). All integers little-endian and naturally aligned; positions are byte counts */
/* since the channel began, the ring index is position & (capacity - 1).                         */

#define SHMKIT_CHANNEL_MAGIC UINT64_C(0x4E4148434B4D4853) /* "SHMKCHAN" read as a little-endian word */
#define SHMKIT_CHANNEL_VERSION 1

#define SHMKIT_KIND_ONE_TO_ONE 1
#define SHMKIT_KIND_MANY_TO_ONE 2
#define SHMKIT_KIND_PUBLISH_SUBSCRIBE 3

#define SHMKIT_CACHE_LINE 64

#define SHMKIT_MAGIC_OFFSET 0
#define SHMKIT_VERSION_OFFSET 8
#define SHMKIT_KIND_OFFSET 12
#define SHMKIT_CAPACITY_OFFSET 16
#define SHMKIT_MAX_MESSAGE_LENGTH_OFFSET 24
#define SHMKIT_PRODUCER_SLOTS_OFFSET 28
#define SHMKIT_CONSUMER_SLOTS_OFFSET 32
#define SHMKIT_RESERVED_OFFSET 36
#define SHMKIT_DATA_OFFSET_OFFSET 40
#define SHMKIT_SLOTS_OFFSET_OFFSET 48
#define SHMKIT_CREATED_MILLIS_OFFSET 56
#define SHMKIT_TAIL_OFFSET 64
#define SHMKIT_CLEAN_POSITION_OFFSET 72
#define SHMKIT_DATA_SIGNAL_OFFSET 192
#define SHMKIT_CONSUMERS_WAITING_OFFSET 196
#define SHMKIT_SPACE_SIGNAL_OFFSET 256
#define SHMKIT_PRODUCERS_WAITING_OFFSET 260
#define SHMKIT_HEADER_LENGTH 320

#define SHMKIT_MIN_CAPACITY 4096
#define SHMKIT_MAX_CAPACITY (INT64_C(1) << 30)
#define SHMKIT_MAX_SLOTS 4096
/* Largest tail an opener accepts: position arithmetic (a position plus the capacity) must not overflow. */
#define SHMKIT_MAX_POSITION (INT64_C(1) << 62)

#define SHMKIT_SLOT_LENGTH 64
#define SHMKIT_SLOT_OWNER_OFFSET 0
#define SHMKIT_SLOT_START_TIME_OFFSET 8
#define SHMKIT_SLOT_HEARTBEAT_OFFSET 16
#define SHMKIT_SLOT_POSITION_OFFSET 24
#define SHMKIT_SLOT_MESSAGES_OFFSET 32
#define SHMKIT_SLOT_CLAIM_LENGTH_OFFSET 40
#define SHMKIT_SLOT_RESERVED_OFFSET 44
#define SHMKIT_SLOT_RETIRING_OFFSET 40 /* the same 8 bytes, in the many-to-one consumer's slot */
#define SHMKIT_SLOT_NAME_OFFSET 48
#define SHMKIT_SLOT_NAME_LENGTH 16

/* Slot states: the low 32 bits of the owner word; the high 32 bits are the owner's pid. */
#define SHMKIT_SLOT_FREE 0
#define SHMKIT_SLOT_CLAIMING 1
#define SHMKIT_SLOT_ACTIVE 2
#define SHMKIT_SLOT_CLOSED 3
#define SHMKIT_SLOT_DEAD 4

#define SHMKIT_RECORD_HEADER_LENGTH 8
#define SHMKIT_RECORD_ALIGNMENT 8
#define SHMKIT_PADDING_TYPE (-1)

/* The header, 320 bytes: the creator's fields, then one cache line per group of writers. */
struct shmkit_channel_header {
    uint64_t magic;              /* written last by the creator, release */
    int32_t version;
    int32_t kind;
    int64_t capacity;            /* power of two, 4096 .. 2^30 */
    int32_t max_message_length;  /* payload bytes */
    int32_t producer_slots;
    int32_t consumer_slots;
    int32_t reserved;
    int64_t data_offset;         /* page aligned, right after the slots */
    int64_t slots_offset;        /* 320 */
    int64_t created_millis;
    int64_t tail;                /* producers: end of the last claimed record */
    int64_t clean_position;      /* single-producer kinds: zero bytes from the tail up to here */
    uint8_t unused_80[112];      /* the rest of the producers' line, and a line of padding */
    uint32_t data_signal;        /* futex word: producers bump it when consumers wait */
    uint32_t consumers_waiting;
    uint8_t unused_200[56];
    uint32_t space_signal;       /* futex word: consumers bump it when producers wait */
    uint32_t producers_waiting;
    uint8_t unused_264[56];
};

/* A participant slot: one cache line. Producer slots first, then consumer slots. */
struct shmkit_channel_slot {
    uint64_t owner;              /* state | pid << 32, changed by CAS only */
    int64_t start_time;          /* owner's start time: /proc/PID/stat field 22, clock ticks since boot */
    int64_t heartbeat;           /* ms since the epoch */
    int64_t position;            /* consumers: next position to read; many-to-one producers: claim */
    int64_t messages;            /* consumed or produced through this slot */
    union {
        SHMKIT__EXTENSION struct { /* anonymous: standard C11, a GNU extension in C++ */
            int32_t claim_length; /* many-to-one producers: bytes of the claim in progress */
            int32_t reserved;
        };
        uint64_t retiring;       /* the many-to-one consumer: the record it is zeroing, length | position << 32 */
    };
    char name[SHMKIT_SLOT_NAME_LENGTH]; /* subscribers: UTF-8, NUL padded */
};

#define SHMKIT__CHECK_OFFSET(type, field, offset) \
    SHMKIT__STATIC_ASSERT(offsetof(struct type, field) == (offset), #type "." #field " must be at " #offset)
SHMKIT__CHECK_OFFSET(shmkit_channel_header, magic, SHMKIT_MAGIC_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, version, SHMKIT_VERSION_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, kind, SHMKIT_KIND_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, capacity, SHMKIT_CAPACITY_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, max_message_length, SHMKIT_MAX_MESSAGE_LENGTH_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, producer_slots, SHMKIT_PRODUCER_SLOTS_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, consumer_slots, SHMKIT_CONSUMER_SLOTS_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, reserved, SHMKIT_RESERVED_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, data_offset, SHMKIT_DATA_OFFSET_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, slots_offset, SHMKIT_SLOTS_OFFSET_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, created_millis, SHMKIT_CREATED_MILLIS_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, tail, SHMKIT_TAIL_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, clean_position, SHMKIT_CLEAN_POSITION_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, data_signal, SHMKIT_DATA_SIGNAL_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, consumers_waiting, SHMKIT_CONSUMERS_WAITING_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, space_signal, SHMKIT_SPACE_SIGNAL_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_header, producers_waiting, SHMKIT_PRODUCERS_WAITING_OFFSET);
SHMKIT__STATIC_ASSERT(sizeof(struct shmkit_channel_header) == SHMKIT_HEADER_LENGTH, "the header is 320 bytes");
SHMKIT__STATIC_ASSERT(SHMKIT_TAIL_OFFSET == 1 * SHMKIT_CACHE_LINE && SHMKIT_DATA_SIGNAL_OFFSET == 3 * SHMKIT_CACHE_LINE
               && SHMKIT_SPACE_SIGNAL_OFFSET == 4 * SHMKIT_CACHE_LINE, "each group of writers has a cache line");
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, owner, SHMKIT_SLOT_OWNER_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, start_time, SHMKIT_SLOT_START_TIME_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, heartbeat, SHMKIT_SLOT_HEARTBEAT_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, position, SHMKIT_SLOT_POSITION_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, messages, SHMKIT_SLOT_MESSAGES_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, claim_length, SHMKIT_SLOT_CLAIM_LENGTH_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, reserved, SHMKIT_SLOT_RESERVED_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, retiring, SHMKIT_SLOT_RETIRING_OFFSET);
SHMKIT__CHECK_OFFSET(shmkit_channel_slot, name, SHMKIT_SLOT_NAME_OFFSET);
SHMKIT__STATIC_ASSERT(sizeof(struct shmkit_channel_slot) == SHMKIT_SLOT_LENGTH, "a slot is 64 bytes");
#if !defined(__GCC_ATOMIC_LLONG_LOCK_FREE) || __GCC_ATOMIC_LLONG_LOCK_FREE != 2
#error "shmkit channels need lock-free 64-bit atomics (positions and owner words), as the Java side uses"
#endif

/* ------------------------------------------------------------------------------------------- */
/* Errors                                                                                        */

#define SHMKIT_ENOTFOUND (-1)     /* no segment of that name */
#define SHMKIT_EACCESS (-2)       /* permissions, another user's segment, or a symbolic link */
#define SHMKIT_ENOTCHANNEL (-3)   /* a segment, but not a channel (too small, no magic, not a file) */
#define SHMKIT_EVERSION (-4)      /* a channel of a layout version this header does not read */
#define SHMKIT_ECORRUPTED (-5)    /* a channel with impossible values in its header, slots or ring */
#define SHMKIT_EKIND (-6)         /* the wrong role for the channel's kind */
#define SHMKIT_EBUSY (-7)         /* the slot is held by a live process, or every slot is */
#define SHMKIT_ESYSTEM (-8)       /* another operating system error */
#define SHMKIT_EINVALID (-9)      /* a bad argument: name, subscriber name, state of the handle */

/* shmkit_channel_open flags */
#define SHMKIT_OPEN_ALLOW_FOREIGN_OWNER 1u /* open a segment owned by another user (trust its owner) */

/* The default for a live many-to-one producer's unfinished record, as ChannelOptions. */
#define SHMKIT_DEFAULT_STUCK_RECORD_TIMEOUT_NS (INT64_C(5) * 1000000000)

/*
 * An open channel. Fields you may read: kind, capacity, max_message_length, producer_slots,
 * consumer_slots, position (next position to read, once attached), messages (consumed through
 * this slot, ever), lost_bytes (a named subscriber coming back: bytes overwritten while it was
 * away), slot_index (among the consumer slots), error. You may set stuck_record_timeout_ns.
 */
typedef struct shmkit_channel {
    int32_t kind;
    int64_t capacity;
    int32_t max_message_length;
    int32_t producer_slots;
    int32_t consumer_slots;
    int64_t position;
    int64_t messages;
    int64_t lost_bytes;
    int32_t slot_index;
    int64_t stuck_record_timeout_ns;
    char error[512];

    /* private */
    int fd;
    unsigned char *base;
    size_t size;
    struct shmkit_channel_header *header;
    unsigned char *data;
    int64_t mask;
    struct shmkit_channel_slot *slot;
    int last_close;
    int32_t pid;
    int64_t start_time;
    int idle_polls;
    int64_t stuck_position;
    int64_t stuck_since_ns;
    int64_t last_heartbeat_ms;
    char name[256];
    char path[272];
} shmkit_channel;

/* Called once per message, in order. The payload is read in place in the ring: copy what you need
 * before returning. Return 0 when the message is consumed; anything else leaves it unconsumed (the
 * next poll delivers it again) and ends the poll, like a Java handler that throws. */
typedef int (*shmkit_message_handler)(void *context, int32_t type, const void *payload, uint32_t length);

/* ------------------------------------------------------------------------------------------- */
/* Internals                                                                                     */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline int shmkit__fail(shmkit_channel *ch, int code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(ch->error, sizeof ch->error, format, args);
    va_end(args);
    return code;
}

static inline int shmkit__fail_errno(shmkit_channel *ch, int err, const char *what)
{
    int code = err == ENOENT ? SHMKIT_ENOTFOUND
            : err == EACCES || err == EPERM || err == ELOOP ? SHMKIT_EACCESS : SHMKIT_ESYSTEM;
    if (err == ELOOP) {
        return shmkit__fail(ch, code, "%s is a symbolic link; shmkit does not follow links", ch->path);
    }
    if (err == ENOENT) {
        return shmkit__fail(ch, code, "no shared memory segment named \"%s\" (%s)", ch->name, ch->path);
    }
    return shmkit__fail(ch, code, "cannot %s %s: %s", what, ch->path, strerror(err));
}

static inline int64_t shmkit__nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t shmkit__millis(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void shmkit__spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* The boot-time offset of this process's time namespace in clock ticks (USER_HZ, 100): "boottime"
 * in /proc/self/timens_offsets, 0 in the initial namespace or without time namespaces. The kernel
 * adds the reader's offset to the start times in /proc/PID/stat; taking it off again makes every
 * process, in a time namespace or not, read the same start time for a process, as Java does. */
static inline int64_t shmkit__boottime_offset_ticks(void)
{
    FILE *f = fopen("/proc/self/timens_offsets", "re");
    if (f == NULL) {
        return 0;
    }
    char clock[32];
    long long sec, nsec;
    int64_t ticks = 0;
    while (fscanf(f, "%31s %lld %lld", clock, &sec, &nsec) == 3) {
        if (strcmp(clock, "boottime") == 0) {
            ticks = (int64_t) sec * 100 + nsec / 10000000;
        }
    }
    fclose(f);
    return ticks;
}

/* When process pid started (clock ticks since boot, field 22 of /proc/PID/stat, as the initial
 * time namespace shows it), or -1 when there
 * is no such process or it is a zombie (all its threads ended: it holds nothing any more), or -2 when it exists but
 * cannot be inspected (another user's process under hidepid): presume that one alive. Pid and start
 * time together name a process even when pids are reused. */
static inline int64_t shmkit__process_start_time(int32_t pid)
{
    if (pid <= 0) {
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return kill(pid, 0) == 0 || errno == EPERM ? -2 : -1;
    }
    char buf[1024];
    ssize_t n;
    do {
        n = read(fd, buf, sizeof buf - 1);
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    /* Field 2, the command, may hold spaces and parentheses: count fields after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ') {
        return -1;
    }
    p += 2;
    char state = *p;
    long threads = 0;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL) {
            return -1;
        }
        p++;
        if (field + 1 == 20) {
            threads = strtol(p, NULL, 10); /* field 20: num_threads */
        }
    }
    /* The state is the first thread's: Z once main() ends with pthread_exit while the other threads
     * run on (and may hold a slot). Only a zombie alone in its thread group is a dead process. */
    if ((state == 'Z' || state == 'X') && threads <= 1) {
        return -1;
    }
    char *end;
    errno = 0;
    long long start = strtoll(p, &end, 10);
    if (end == p || errno != 0) {
        return -1;
    }
    static int64_t offset = -1; /* read once: a process does not change time namespace */
    if (offset < 0) {
        offset = shmkit__boottime_offset_ticks();
    }
    start -= offset;
    return start < 0 ? -1 : (int64_t) start;
}

static inline int shmkit__futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    struct timespec ts = {(time_t) (timeout_ns / 1000000000), (long) (timeout_ns % 1000000000)};
    return (int) syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, NULL, 0);
}

/* membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED): a full fence on every CPU running a thread of a
 * process registered for it; 1 when done, 0 when unavailable. */
static inline int shmkit__process_wide_barrier(void)
{
#ifdef SYS_membarrier
    return syscall(SYS_membarrier, 1 << 1 /* MEMBARRIER_CMD_GLOBAL_EXPEDITED */, 0, 0) == 0;
#else
    return 0;
#endif
}

static inline void shmkit__futex_wake_all(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static inline struct shmkit_channel_slot *shmkit__slot(shmkit_channel *ch, int32_t index)
{
    return (struct shmkit_channel_slot *) (ch->base + SHMKIT_HEADER_LENGTH + (size_t) index * SHMKIT_SLOT_LENGTH);
}

static inline uint64_t shmkit__owner(int32_t state, int32_t pid)
{
    return (uint64_t) (uint32_t) pid << 32 | (uint32_t) state;
}

static inline int32_t shmkit__state(uint64_t owner)
{
    return (int32_t) (uint32_t) owner;
}

static inline int32_t shmkit__pid(uint64_t owner)
{
    return (int32_t) (uint32_t) (owner >> 32);
}

static inline int32_t shmkit__record_length(uint64_t header)
{
    return (int32_t) (uint32_t) header;
}

static inline int32_t shmkit__record_type(uint64_t header)
{
    return (int32_t) (uint32_t) (header >> 32);
}

static inline uint64_t shmkit__record_header(int32_t length, int32_t type)
{
    return (uint64_t) (uint32_t) type << 32 | (uint32_t) length;
}

static inline int64_t shmkit__aligned(int64_t length)
{
    return (length + SHMKIT_RECORD_ALIGNMENT - 1) & -(int64_t) SHMKIT_RECORD_ALIGNMENT;
}

static inline uint64_t *shmkit__record_word(shmkit_channel *ch, int64_t position)
{
    return (uint64_t *) (ch->data + (position & ch->mask));
}

/* Whether the process recorded in a slot still runs: pid and start time both match. */
static inline int shmkit__owner_alive(shmkit_channel *ch, struct shmkit_channel_slot *slot, uint64_t owner)
{
    int32_t pid = shmkit__pid(owner);
    if (pid == ch->pid) {
        /* Another handle in this process, unless an earlier process with this pid left the slot (a pid
           reused, a container restarted in a new pid namespace): its start time differs. */
        return shmkit__state(owner) == SHMKIT_SLOT_CLAIMING
            || __atomic_load_n(&slot->start_time, __ATOMIC_ACQUIRE) == ch->start_time;
    }
    int64_t now = shmkit__process_start_time(pid);
    if (now == -2) {
        return 1; /* exists, but /proc/PID cannot be read: never take a live owner for dead */
    }
    if (shmkit__state(owner) == SHMKIT_SLOT_CLAIMING) {
        /* Being taken: the start time may still be the previous owner's, so only the pid counts. */
        return now >= 0;
    }
    return now >= 0 && now == __atomic_load_n(&slot->start_time, __ATOMIC_ACQUIRE);
}

static inline int64_t shmkit__data_offset(int32_t producers, int32_t consumers, int64_t page_size)
{
    int64_t end = SHMKIT_HEADER_LENGTH + (int64_t) (producers + consumers) * SHMKIT_SLOT_LENGTH;
    return (end + page_size - 1) / page_size * page_size;
}

static inline const char *shmkit_channel_kind_name(int32_t kind)
{
    switch (kind) {
    case SHMKIT_KIND_ONE_TO_ONE:
        return "one-to-one";
    case SHMKIT_KIND_MANY_TO_ONE:
        return "many-to-one";
    case SHMKIT_KIND_PUBLISH_SUBSCRIBE:
        return "publish-subscribe";
    default:
        return "of an unknown kind";
    }
}

static inline int shmkit__corrupted(shmkit_channel *ch, long offset, const char *field, long long value)
{
    return shmkit__fail(ch, SHMKIT_ECORRUPTED, "channel \"%s\" is corrupted: %s at offset %ld is %lld",
                        ch->name, field, offset, value);
}

/* The same checks as ChannelDescriptor.checkHeader, in the same order, so both report alike. They
 * run on a copy of the header's first line (h), so that what is checked is what is used. */
static inline int shmkit__check_header(shmkit_channel *ch, const struct shmkit_channel_header *h)
{
    uint64_t magic = h->magic;
    if (magic != SHMKIT_CHANNEL_MAGIC) {
        return shmkit__fail(ch, SHMKIT_ENOTCHANNEL, "segment \"%s\" is not a channel: magic at offset 0 is 0x%llx, "
                            "expected 0x%llx (\"SHMKCHAN\")%s", ch->name, (unsigned long long) magic,
                            (unsigned long long) SHMKIT_CHANNEL_MAGIC,
                            magic == 0 ? "; it is empty, or its creator has not finished" : "");
    }
    if (h->version != SHMKIT_CHANNEL_VERSION) {
        return shmkit__fail(ch, SHMKIT_EVERSION, "channel \"%s\" has layout version %d; this header reads version %d",
                            ch->name, (int) h->version, SHMKIT_CHANNEL_VERSION);
    }
    if (h->kind < SHMKIT_KIND_ONE_TO_ONE || h->kind > SHMKIT_KIND_PUBLISH_SUBSCRIBE) {
        return shmkit__corrupted(ch, SHMKIT_KIND_OFFSET, "kind", h->kind);
    }
    int64_t capacity = h->capacity;
    if (capacity < SHMKIT_MIN_CAPACITY || capacity > SHMKIT_MAX_CAPACITY || (capacity & (capacity - 1)) != 0) {
        return shmkit__corrupted(ch, SHMKIT_CAPACITY_OFFSET, "capacity (a power of two from 4096 to 2^30)",
                                 (long long) capacity);
    }
    if (h->max_message_length < 0 || h->max_message_length > capacity / 8 - SHMKIT_RECORD_HEADER_LENGTH) {
        return shmkit__corrupted(ch, SHMKIT_MAX_MESSAGE_LENGTH_OFFSET, "max message length", h->max_message_length);
    }
    int32_t producers = h->producer_slots;
    int32_t consumers = h->consumer_slots;
    if (producers < 1 || producers > SHMKIT_MAX_SLOTS) {
        return shmkit__corrupted(ch, SHMKIT_PRODUCER_SLOTS_OFFSET, "producer slots", producers);
    }
    if (consumers < 1 || consumers > SHMKIT_MAX_SLOTS) {
        return shmkit__corrupted(ch, SHMKIT_CONSUMER_SLOTS_OFFSET, "consumer slots", consumers);
    }
    if ((h->kind != SHMKIT_KIND_MANY_TO_ONE && producers != 1)
            || (h->kind != SHMKIT_KIND_PUBLISH_SUBSCRIBE && consumers != 1)) {
        return shmkit__fail(ch, SHMKIT_ECORRUPTED, "channel \"%s\" is corrupted: a %s channel cannot have %d producer "
                            "and %d consumer slots", ch->name, shmkit_channel_kind_name(h->kind), (int) producers,
                            (int) consumers);
    }
    if (h->slots_offset != SHMKIT_HEADER_LENGTH) {
        return shmkit__corrupted(ch, SHMKIT_SLOTS_OFFSET_OFFSET, "slots offset", (long long) h->slots_offset);
    }
    int64_t data = h->data_offset;
    if (data != shmkit__data_offset(producers, consumers, sysconf(_SC_PAGESIZE))) {
        return shmkit__corrupted(ch, SHMKIT_DATA_OFFSET_OFFSET, "data offset", (long long) data);
    }
    if ((int64_t) ch->size < data + capacity) {
        return shmkit__fail(ch, SHMKIT_ECORRUPTED, "channel \"%s\" is truncated: it is %zu bytes, its header "
                            "needs %lld", ch->name, ch->size, (long long) (data + capacity));
    }
    return 0;
}

/* The checks of Channel.checkPositions against one value of the tail. A single producer publishes a
 * record's header before it advances the tail, so a consumer may be one record ahead of the tail
 * (exactly that record); a subscriber slot being taken still holds its previous owner's position, which gates nothing. */
static inline int shmkit__position_problem(shmkit_channel *ch, int64_t tail)
{
    char what[96];
    if (tail < 0 || tail > SHMKIT_MAX_POSITION || (tail & 7) != 0) {
        return shmkit__corrupted(ch, SHMKIT_TAIL_OFFSET, "tail position", (long long) tail);
    }
    int64_t clean = __atomic_load_n(&ch->header->clean_position, __ATOMIC_SEQ_CST);
    if (ch->kind != SHMKIT_KIND_MANY_TO_ONE && (clean < tail || clean > tail + ch->capacity || (clean & 7) != 0)) {
        snprintf(what, sizeof what, "clean position (tail %lld)", (long long) tail);
        return shmkit__corrupted(ch, SHMKIT_CLEAN_POSITION_OFFSET, what, (long long) clean);
    }
    /* A consumer ahead of the tail has read the record published there: it stands right after it,
     * or it would read from the middle of the records written next. */
    int64_t ahead = 0;
    int32_t length = shmkit__record_length(__atomic_load_n(shmkit__record_word(ch, tail), __ATOMIC_ACQUIRE));
    if (ch->kind != SHMKIT_KIND_MANY_TO_ONE && length >= SHMKIT_RECORD_HEADER_LENGTH
            && length <= ch->capacity - (tail & ch->mask)) {
        ahead = shmkit__aligned(length);
    }
    for (int32_t i = 0; i < ch->consumer_slots; i++) {
        struct shmkit_channel_slot *slot = shmkit__slot(ch, ch->producer_slots + i);
        long offset = (long) ((unsigned char *) slot - ch->base);
        int32_t state = shmkit__state(__atomic_load_n(&slot->owner, __ATOMIC_SEQ_CST));
        if (state < SHMKIT_SLOT_FREE || state > SHMKIT_SLOT_DEAD) {
            snprintf(what, sizeof what, "state of consumer slot %d", (int) i);
            return shmkit__corrupted(ch, offset + SHMKIT_SLOT_OWNER_OFFSET, what, state);
        }
        int64_t position = __atomic_load_n(&slot->position, __ATOMIC_SEQ_CST);
        int gates = ch->kind != SHMKIT_KIND_PUBLISH_SUBSCRIBE || state == SHMKIT_SLOT_ACTIVE;
        if (position < 0 || (position & 7) != 0 || (position > tail && position != tail + ahead)
                || (gates && tail - position > ch->capacity)) {
            snprintf(what, sizeof what, "position of consumer slot %d (tail %lld)", (int) i, (long long) tail);
            return shmkit__corrupted(ch, offset + SHMKIT_SLOT_POSITION_OFFSET, what, (long long) position);
        }
    }
    return 0;
}

/* Corruption is reported on open, not found later. Producers and consumers may be at work meanwhile:
 * the checks are repeated until the tail stood still while they ran (as Channel.checkPositions). */
static inline int shmkit__check_positions(shmkit_channel *ch)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int64_t tail = __atomic_load_n(&ch->header->tail, __ATOMIC_SEQ_CST);
        int rc = shmkit__position_problem(ch, tail);
        if (__atomic_load_n(&ch->header->tail, __ATOMIC_SEQ_CST) == tail) {
            return rc;
        }
    }
    return 0;
}

/* Whether the segment's lifetime is "until last close" (an extended attribute, or the sticky bit
 * on kernels whose tmpfs has no user attributes), as shmkit records it. */
static inline int shmkit__lifetime_is_last_close(int fd, mode_t mode)
{
    char tag[32];
    ssize_t n = fgetxattr(fd, "user.shmkit.lifetime", tag, sizeof tag);
    if (n < 0) {
        return (mode & S_ISVTX) != 0;
    }
    return n == 10 && memcmp(tag, "last-close", 10) == 0;
}

static inline int shmkit__flock(int fd, int operation)
{
    int r;
    do {
        r = flock(fd, operation);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* ------------------------------------------------------------------------------------------- */
/* Opening and closing                                                                           */

/*
 * Opens the channel NAME ("prices", or "/prices" as shm_open spells it; "Local\\prices" and
 * "Global\\prices" are "prices", as in Java; names Java refuses are refused), validates its header
 * and positions, and maps it. Waits up to 2 s for a creator that has made the segment but not yet
 * written its header. On failure ch->error says why; call shmkit_channel_close(ch) either way.
 */
static inline int shmkit_channel_open(shmkit_channel *ch, const char *name, unsigned flags)
{
    memset(ch, 0, sizeof *ch);
    ch->fd = -1;
    ch->slot_index = -1;
    ch->stuck_position = -1;
    ch->stuck_record_timeout_ns = SHMKIT_DEFAULT_STUCK_RECORD_TIMEOUT_NS;
    if (name == NULL) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "channel name is NULL");
    }
    /* The names Java accepts (docs/segments.md, "Valid names"), plus shm_open's leading '/'. */
    if (name[0] == '/') {
        name++;
    } else if (strncasecmp(name, "Local\\", 6) == 0) {
        name += 6; /* Windows' prefixes, accepted and removed as Java does */
    } else if (strncasecmp(name, "Global\\", 7) == 0) {
        name += 7;
    }
    size_t length = strlen(name);
    const char *why = NULL;
    if (length == 0) {
        why = "it is empty";
    } else if (length > 255) {
        why = "it is longer than 255 bytes";
    } else if (strchr(name, '/') != NULL) {
        why = "it contains '/' (give the bare name, or \"/name\" as shm_open spells it)";
    } else if (strchr(name, '\\') != NULL) {
        why = "it contains '\\' (only the prefixes Local\\ and Global\\ are accepted)";
    } else if (strstr(name, "..") != NULL) {
        why = "it contains '..'";
    } else if (name[0] == '.') {
        why = "it starts with '.', which is reserved for shmkit's temporary objects";
    } else {
        for (const unsigned char *c = (const unsigned char *) name; *c != '\0'; c++) {
            if (*c < 0x20 || *c == 0x7f) {
                why = "it contains a control character";
                break;
            }
        }
    }
    if (why != NULL) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "invalid channel name \"%.255s\": %s", name, why);
    }
    memcpy(ch->name, name, length + 1);
    snprintf(ch->path, sizeof ch->path, "/dev/shm/%s", name);
    char shm_name[258];
    snprintf(shm_name, sizeof shm_name, "/%s", name);

    struct stat st;
    for (int attempt = 0;; attempt++) {
        int fd = shm_open(shm_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0) {
            return shmkit__fail_errno(ch, errno, "open");
        }
        ch->fd = fd;
        if (fstat(fd, &st) < 0) {
            return shmkit__fail_errno(ch, errno, "stat");
        }
        if (!S_ISREG(st.st_mode)) {
            return shmkit__fail(ch, SHMKIT_ENOTCHANNEL, "%s is not a regular file (mode %o); refusing to map it",
                                ch->path, (unsigned) st.st_mode);
        }
        if (st.st_uid != geteuid() && !(flags & SHMKIT_OPEN_ALLOW_FOREIGN_OWNER)) {
            return shmkit__fail(ch, SHMKIT_EACCESS, "%s is owned by uid %u, not by this user (uid %u); open it with "
                                "SHMKIT_OPEN_ALLOW_FOREIGN_OWNER if you trust its owner", ch->path,
                                (unsigned) st.st_uid, (unsigned) geteuid());
        }
        /* A shared lock makes this program a holder, as every shmkit handle is (docs/segments.md). */
        if (shmkit__flock(fd, LOCK_SH) < 0) {
            return shmkit__fail_errno(ch, errno, "lock");
        }
        /* Its last holder may have removed the name between our open and our lock: that object is
         * on its way out, and a new one may have been created under the name. */
        struct stat now;
        if (lstat(ch->path, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino) {
            break;
        }
        close(fd);
        ch->fd = -1;
        if (attempt >= 100) {
            return shmkit__fail(ch, SHMKIT_ESYSTEM, "cannot open \"%s\": it was removed and re-created 100 times "
                                "while opening it", ch->name);
        }
    }
    ch->last_close = shmkit__lifetime_is_last_close(ch->fd, st.st_mode);
    ch->size = (size_t) st.st_size;
    if (st.st_size < SHMKIT_HEADER_LENGTH) {
        return shmkit__fail(ch, SHMKIT_ENOTCHANNEL, "segment \"%s\" is not a channel: it is %zu bytes, smaller "
                            "than a channel header (%d)", ch->name, ch->size, SHMKIT_HEADER_LENGTH);
    }
    void *base = mmap(NULL, (size_t) st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, ch->fd, 0);
    if (base == MAP_FAILED) {
        return shmkit__fail_errno(ch, errno, "map");
    }
    ch->base = (unsigned char *) base;
    ch->header = (struct shmkit_channel_header *) base;
    /* SYNC POINT: pairs with the creator's release store of the magic, written after the header. */
    int64_t deadline = shmkit__nanotime() + INT64_C(2000000000);
    while (__atomic_load_n(&ch->header->magic, __ATOMIC_ACQUIRE) == 0 && shmkit__nanotime() < deadline) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    /* Read once: a value changed later by a faulty process must not move our bounds. */
    struct shmkit_channel_header h;
    memcpy(&h, ch->header, SHMKIT_TAIL_OFFSET);
    int rc = shmkit__check_header(ch, &h);
    if (rc < 0) {
        return rc;
    }
    ch->kind = h.kind;
    ch->capacity = h.capacity;
    ch->mask = h.capacity - 1;
    ch->max_message_length = h.max_message_length;
    ch->producer_slots = h.producer_slots;
    ch->consumer_slots = h.consumer_slots;
    ch->data = ch->base + h.data_offset;
    ch->pid = (int32_t) getpid();
    ch->start_time = shmkit__process_start_time(ch->pid);
    return shmkit__check_positions(ch);
}

/*
 * Leaves the consumer or subscriber slot cleanly: its position stays in the segment, so the next
 * consumer (Java, C or Python) resumes after the last message this one consumed. Does nothing
 * when not attached.
 */
static inline void shmkit_channel_detach(shmkit_channel *ch)
{
    if (ch->slot == NULL) {
        return;
    }
    /* A segment truncated under us (see shmkit_channel_await) may have lost the slot's page too:
     * there is nothing left to leave then, and touching it would raise SIGBUS. */
    struct stat st;
    if (fstat(ch->fd, &st) < 0 || st.st_size >= (off_t) ((unsigned char *) ch->slot - ch->base) + SHMKIT_SLOT_LENGTH) {
        uint64_t mine = shmkit__owner(SHMKIT_SLOT_ACTIVE, ch->pid);
        __atomic_compare_exchange_n(&ch->slot->owner, &mine, shmkit__owner(SHMKIT_SLOT_CLOSED, ch->pid), 0,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    ch->slot = NULL;
}

/*
 * Detaches, unmaps and closes. A channel whose lifetime is "until last close" is removed when this
 * was its last holder, as a Java holder's close would. Safe after a failed open, and twice.
 */
static inline void shmkit_channel_close(shmkit_channel *ch)
{
    shmkit_channel_detach(ch);
    if (ch->base != NULL) {
        munmap(ch->base, ch->size);
        ch->base = NULL;
        ch->header = NULL;
        ch->data = NULL;
    }
    if (ch->fd >= 0) {
        /* Converting to exclusive succeeds only when no other holder is left. */
        if (ch->last_close && flock(ch->fd, LOCK_EX | LOCK_NB) == 0) {
            struct stat mine;
            struct stat now;
            if (fstat(ch->fd, &mine) == 0 && lstat(ch->path, &now) == 0 && now.st_dev == mine.st_dev
                    && now.st_ino == mine.st_ino) {
                unlink(ch->path);
            }
        }
        close(ch->fd);
        ch->fd = -1;
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Joining                                                                                       */

static inline int shmkit__name_matches(const struct shmkit_channel_slot *slot, const char *name)
{
    char padded[SHMKIT_SLOT_NAME_LENGTH] = {0};
    memcpy(padded, name, strlen(name));
    return memcmp(slot->name, padded, SHMKIT_SLOT_NAME_LENGTH) == 0;
}

/*
 * Takes a slot in [first, first + count) as Channel.acquireSlot does: the slot of `name` when it
 * has one (to resume), else a free one, else one left closed or by a process that died; by CAS of
 * the owner word to CLAIMING|pid, then start time and heartbeat. The caller activates it.
 */
static inline int shmkit__acquire_slot(shmkit_channel *ch, int32_t first, int32_t count, const char *name,
                                       const char *role, int *resumed_out, int *from_dead_out)
{
    for (int attempt = 0; attempt < 1000; attempt++) {
        int32_t candidate = -1;
        int resumed = 0;
        int rank = INT_MAX;
        int32_t live_owner = 0;
        for (int32_t i = first; i < first + count; i++) {
            struct shmkit_channel_slot *slot = shmkit__slot(ch, i);
            uint64_t owner = __atomic_load_n(&slot->owner, __ATOMIC_SEQ_CST);
            int32_t state = shmkit__state(owner);
            int usable = state == SHMKIT_SLOT_FREE || state == SHMKIT_SLOT_CLOSED || state == SHMKIT_SLOT_DEAD
                    || !shmkit__owner_alive(ch, slot, owner);
            if (name != NULL && state != SHMKIT_SLOT_FREE && shmkit__name_matches(slot, name)) {
                if (!usable) {
                    return shmkit__fail(ch, SHMKIT_EBUSY, "subscriber \"%s\" of channel \"%s\" is in use by live "
                                        "process %d", name, ch->name, (int) shmkit__pid(owner));
                }
                candidate = i;
                resumed = 1;
                break;
            }
            if (!usable) {
                live_owner = shmkit__pid(owner);
                continue;
            }
            /* Prefer slots nobody may come back for: free, then unnamed, then named ones. */
            int r = state == SHMKIT_SLOT_FREE ? 0 : slot->name[0] == '\0' ? 1 : 2;
            if (r < rank) {
                rank = r;
                candidate = i;
            }
        }
        if (candidate < 0) {
            if (count == 1) {
                return shmkit__fail(ch, SHMKIT_EBUSY, "the %s of channel \"%s\" is live process %d", role, ch->name,
                                    (int) live_owner);
            }
            return shmkit__fail(ch, SHMKIT_EBUSY, "all %d %s slots of channel \"%s\" are in use", (int) count, role,
                                ch->name);
        }
        struct shmkit_channel_slot *slot = shmkit__slot(ch, candidate);
        uint64_t owner = __atomic_load_n(&slot->owner, __ATOMIC_SEQ_CST);
        int32_t state = shmkit__state(owner);
        if ((state == SHMKIT_SLOT_ACTIVE || state == SHMKIT_SLOT_CLAIMING) && shmkit__owner_alive(ch, slot, owner)) {
            continue; /* taken meanwhile */
        }
        if (__atomic_compare_exchange_n(&slot->owner, &owner, shmkit__owner(SHMKIT_SLOT_CLAIMING, ch->pid), 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&slot->start_time, ch->start_time, __ATOMIC_RELEASE);
            __atomic_store_n(&slot->heartbeat, shmkit__millis(), __ATOMIC_RELEASE);
            if (candidate >= ch->producer_slots && !resumed) {
                memset(slot->name, 0, SHMKIT_SLOT_NAME_LENGTH);
                if (name != NULL) {
                    memcpy(slot->name, name, strlen(name));
                }
            }
            ch->slot = slot;
            ch->slot_index = candidate - ch->producer_slots;
            *resumed_out = resumed;
            /* Usable although ACTIVE or CLAIMING: its owner died holding it. */
            *from_dead_out = state == SHMKIT_SLOT_ACTIVE || state == SHMKIT_SLOT_CLAIMING;
            return 0;
        }
    }
    return shmkit__fail(ch, SHMKIT_EBUSY, "could not take a %s slot of channel \"%s\": it kept changing hands", role,
                        ch->name);
}

static inline void shmkit__activate(shmkit_channel *ch)
{
    /* SYNC POINT: the release publishes the slot's position and start time together with its state. */
    __atomic_store_n(&ch->slot->owner, shmkit__owner(SHMKIT_SLOT_ACTIVE, ch->pid), __ATOMIC_RELEASE);
}

/* A many-to-one predecessor that died while zeroing a record it had consumed (its handler had
 * returned) left the record at our position half zeroed: finish the job and move past it. */
static inline void shmkit__finish_retiring(shmkit_channel *ch)
{
    uint64_t retiring = __atomic_load_n(&ch->slot->retiring, __ATOMIC_SEQ_CST);
    int64_t length = (int32_t) (uint32_t) retiring;
    int64_t index = ch->position & ch->mask;
    if ((uint32_t) (retiring >> 32) == (uint32_t) ch->position && length >= SHMKIT_RECORD_HEADER_LENGTH
            && length <= ch->capacity - index && (length & 7) == 0) {
        memset(ch->data + index, 0, (size_t) length);
        ch->position += length;
        __atomic_store_n(&ch->slot->position, ch->position, __ATOMIC_RELEASE);
    }
}

/*
 * Joins a one-to-one or many-to-one channel as its consumer, resuming from the position the
 * previous consumer committed: nothing is lost or repeated, except a message whose handler was
 * running when a previous consumer was killed (delivered again: at-least-once).
 */
static inline int shmkit_channel_attach_consumer(shmkit_channel *ch)
{
    if (ch->base == NULL || ch->slot != NULL) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "attach needs a channel that is open and not attached yet");
    }
    if (ch->kind == SHMKIT_KIND_PUBLISH_SUBSCRIBE) {
        return shmkit__fail(ch, SHMKIT_EKIND, "channel \"%s\" is publish-subscribe: attach as a subscriber",
                            ch->name);
    }
    int resumed, from_dead;
    int rc = shmkit__acquire_slot(ch, ch->producer_slots, 1, NULL, "consumer", &resumed, &from_dead);
    if (rc < 0) {
        return rc;
    }
    if (from_dead) {
        /* The only consumer died: if it was asleep waiting for data, its count in "consumers
         * waiting" stayed, and every commit would wake nobody with a system call. Nobody else on
         * this side can be waiting (as Channel.consumer() in Java). */
        __atomic_store_n(&ch->header->consumers_waiting, 0, __ATOMIC_SEQ_CST);
    }
    ch->messages = __atomic_load_n(&ch->slot->messages, __ATOMIC_SEQ_CST);
    ch->position = __atomic_load_n(&ch->slot->position, __ATOMIC_ACQUIRE);
    ch->lost_bytes = 0;
    if (ch->kind == SHMKIT_KIND_MANY_TO_ONE) {
        shmkit__finish_retiring(ch);
    }
    shmkit__activate(ch);
    return 0;
}

/*
 * Joins a publish-subscribe channel as a subscriber. Anonymous (name NULL): from the next message
 * published. Named (1 to 16 bytes of UTF-8): a subscriber of that name that was here before resumes
 * where it stopped if the producer has not overwritten those messages since; otherwise it starts
 * from the next message and ch->lost_bytes says how much it missed.
 */
static inline int shmkit_channel_attach_subscriber(shmkit_channel *ch, const char *name)
{
    if (ch->base == NULL || ch->slot != NULL) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "attach needs a channel that is open and not attached yet");
    }
    if (ch->kind != SHMKIT_KIND_PUBLISH_SUBSCRIBE) {
        return shmkit__fail(ch, SHMKIT_EKIND, "channel \"%s\" is %s: attach as the consumer", ch->name,
                            shmkit_channel_kind_name(ch->kind));
    }
    if (name != NULL && (name[0] == '\0' || strlen(name) > SHMKIT_SLOT_NAME_LENGTH)) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "subscriber name \"%s\" must be 1 to %d bytes of UTF-8", name,
                            SHMKIT_SLOT_NAME_LENGTH);
    }
    int resumed, from_dead;
    int rc = shmkit__acquire_slot(ch, ch->producer_slots, ch->consumer_slots, name, "subscriber", &resumed,
                                  &from_dead);
    if (rc < 0) {
        return rc;
    }
    struct shmkit_channel_slot *slot = ch->slot;
    if (!resumed) {
        __atomic_store_n(&slot->messages, 0, __ATOMIC_RELEASE);
    }
    ch->messages = __atomic_load_n(&slot->messages, __ATOMIC_SEQ_CST);
    int64_t start = resumed ? __atomic_load_n(&slot->position, __ATOMIC_ACQUIRE)
                            : __atomic_load_n(&ch->header->tail, __ATOMIC_ACQUIRE);
    int64_t missed = 0;
    for (;;) {
        /* Never announce a position the producer is already known to have cleaned over (an ACTIVE
         * slot that far behind holds the producer back, and openers meanwhile report corruption). */
        if (__atomic_load_n(&ch->header->clean_position, __ATOMIC_SEQ_CST) - start > ch->capacity) {
            int64_t tail = __atomic_load_n(&ch->header->tail, __ATOMIC_ACQUIRE);
            missed += tail - start;
            start = tail;
        }
        __atomic_store_n(&slot->position, start, __ATOMIC_RELEASE);
        shmkit__activate(ch);
        /* SYNC POINT: full fence between announcing our position and reading how far the producer
         * has cleaned (pairs with the fence in ChannelProducer.clean): either the producer sees us
         * and leaves our bytes alone, or we see that it overwrote them and skip ahead. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        int64_t clean = __atomic_load_n(&ch->header->clean_position, __ATOMIC_SEQ_CST);
        if (clean - start <= ch->capacity) {
            break;
        }
        int64_t tail = __atomic_load_n(&ch->header->tail, __ATOMIC_ACQUIRE);
        missed += tail - start;
        start = tail;
    }
    ch->position = start;
    ch->lost_bytes = missed;
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Receiving                                                                                     */

static inline int shmkit__corrupted_record(shmkit_channel *ch, int64_t position, uint64_t header, const char *what)
{
    return shmkit__fail(ch, SHMKIT_ECORRUPTED, "channel \"%s\" is corrupted: the record header at position %lld "
                        "(ring offset %lld) is 0x%llx, %s", ch->name, (long long) position,
                        (long long) (position & ch->mask), (unsigned long long) header, what);
}

/* Many-to-one: turns a record its producer left unfinished into padding, when that producer is
 * dead or (timed_out) has kept it longer than the stuck-record timeout. */
static inline int shmkit__skip_unfinished(shmkit_channel *ch, int64_t position, uint64_t header, int timed_out)
{
    uint64_t *word = shmkit__record_word(ch, position);
    int64_t index = position & ch->mask;
    int32_t length = shmkit__record_length(header);
    if (length < 0) {
        int64_t record_length = -(int64_t) length;
        int32_t producer = shmkit__record_type(header);
        if (producer < 0 || producer >= ch->producer_slots || record_length < SHMKIT_RECORD_HEADER_LENGTH
                || record_length > ch->capacity - index) {
            return shmkit__corrupted_record(ch, position, header,
                                            "an unfinished record with an impossible producer or length");
        }
        struct shmkit_channel_slot *slot = shmkit__slot(ch, producer);
        uint64_t owner = __atomic_load_n(&slot->owner, __ATOMIC_SEQ_CST);
        if (timed_out || !shmkit__owner_alive(ch, slot, owner)) {
            uint64_t expected = header;
            __atomic_compare_exchange_n(word, &expected,
                                        shmkit__record_header((int32_t) record_length, SHMKIT_PADDING_TYPE), 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
        return 0;
    }
    /* Header still zero although the tail moved past: a producer claimed the space and did not
     * write the header. Its slot says how long the claim was. A slot left cleanly (CLOSED) has no
     * such claim, whatever position it still shows; a live producer showing this position may be
     * the claimant, about to write the header: wait for it. */
    int32_t pad = 0;
    for (int32_t i = 0; i < ch->producer_slots; i++) {
        struct shmkit_channel_slot *slot = shmkit__slot(ch, i);
        if (__atomic_load_n(&slot->position, __ATOMIC_SEQ_CST) != position) {
            continue;
        }
        int32_t claim = __atomic_load_n(&slot->claim_length, __ATOMIC_SEQ_CST);
        uint64_t owner = __atomic_load_n(&slot->owner, __ATOMIC_SEQ_CST);
        int32_t state = shmkit__state(owner);
        if (state != SHMKIT_SLOT_ACTIVE && state != SHMKIT_SLOT_CLAIMING) {
            continue;
        }
        if (shmkit__owner_alive(ch, slot, owner)) {
            return 0;
        }
        if (pad == 0 && claim >= SHMKIT_RECORD_HEADER_LENGTH && claim <= ch->capacity - index && (claim & 7) == 0) {
            pad = claim;
        }
    }
    if (pad != 0) {
        uint64_t expected = 0;
        __atomic_compare_exchange_n(word, &expected, shmkit__record_header(pad, SHMKIT_PADDING_TYPE), 0,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else if (timed_out) {
        /* No producer, live or dead, says it claimed this space: nobody will write here. */
        return shmkit__corrupted_record(ch, position, header,
                                        "no record although the tail is past it, and no producer slot claims it");
    }
    return 0;
}

/* The slow path of an empty poll: the heartbeat, and unfinished records in many-to-one channels. */
static inline int shmkit__check_idle(shmkit_channel *ch, int64_t position, uint64_t header)
{
    int64_t now_ms = shmkit__millis();
    if (now_ms - ch->last_heartbeat_ms >= 100) {
        ch->last_heartbeat_ms = now_ms;
        __atomic_store_n(&ch->slot->heartbeat, now_ms, __ATOMIC_RELAXED);
    }
    /* A word that is not 0 yet names no record is never written (length 0, or negative outside
     * many-to-one): waiting on it would wait forever. */
    if (header != 0 && (ch->kind != SHMKIT_KIND_MANY_TO_ONE || shmkit__record_length(header) == 0)) {
        return shmkit__corrupted_record(ch, position, header, "neither a record nor empty");
    }
    if (ch->kind != SHMKIT_KIND_MANY_TO_ONE) {
        return 0;
    }
    if (header == 0 && __atomic_load_n(&ch->header->tail, __ATOMIC_SEQ_CST) <= position) {
        ch->stuck_position = -1; /* simply nothing to read */
        return 0;
    }
    int64_t now = shmkit__nanotime();
    if (ch->stuck_position != position) {
        ch->stuck_position = position;
        ch->stuck_since_ns = now;
        return 0;
    }
    int64_t stuck_for = now - ch->stuck_since_ns;
    if (stuck_for >= 1000000) {
        return shmkit__skip_unfinished(ch, position, header, stuck_for >= ch->stuck_record_timeout_ns);
    }
    return 0;
}

static inline void shmkit__after_progress(shmkit_channel *ch, int count)
{
    if (count > 0) {
        ch->messages += count;
        __atomic_store_n(&ch->slot->messages, ch->messages, __ATOMIC_RELAXED);
    }
    /* SYNC POINT: store-load fence between committing the position and reading "producers waiting"
     * (pairs with ChannelProducer.awaitSpace): a producer going to sleep for space either sees the
     * new position or is seen here and woken. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ch->header->producers_waiting, __ATOMIC_SEQ_CST) != 0) {
        __atomic_fetch_add(&ch->header->space_signal, 1, __ATOMIC_SEQ_CST);
        shmkit__futex_wake_all(&ch->header->space_signal);
    }
}

/*
 * Delivers up to `limit` available messages to `handler`, in order, without waiting. Returns how
 * many were consumed (0 when none was available), or SHMKIT_ECORRUPTED. Each message's position is
 * committed to the segment as soon as its handler returns 0.
 */
static inline int shmkit_channel_poll(shmkit_channel *ch, shmkit_message_handler handler, void *context, int limit)
{
    if (ch->slot == NULL) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "poll needs an attached consumer or subscriber");
    }
    int64_t position = ch->position;
    int count = 0;
    int advanced = 0;
    int rc = 0;
    while (count < limit) {
        int64_t index = position & ch->mask;
        /* SYNC POINT: acquire load of the header; pairs with the producer's release store (or CAS)
         * that published the record, so the payload read below is complete. */
        uint64_t header = __atomic_load_n(shmkit__record_word(ch, position), __ATOMIC_ACQUIRE);
        int32_t length = shmkit__record_length(header);
        if (length <= 0) {
            if (!advanced && ++ch->idle_polls >= 256) {
                ch->idle_polls = 0;
                rc = shmkit__check_idle(ch, position, header);
            }
            break;
        }
        int32_t type = shmkit__record_type(header);
        if (length < SHMKIT_RECORD_HEADER_LENGTH || length > ch->capacity - index) {
            char what[96];
            snprintf(what, sizeof what, "a record length outside %d..%lld", SHMKIT_RECORD_HEADER_LENGTH,
                     (long long) (ch->capacity - index));
            rc = shmkit__corrupted_record(ch, position, header, what);
            break;
        }
        if (type == SHMKIT_PADDING_TYPE && ch->kind != SHMKIT_KIND_MANY_TO_ONE && length != ch->capacity - index) {
            /* A single producer pads only the rest of the ring. */
            rc = shmkit__corrupted_record(ch, position, header, "padding that does not end at the ring's end");
            break;
        }
        if (type != SHMKIT_PADDING_TYPE) {
            if (type < 0 || length - SHMKIT_RECORD_HEADER_LENGTH > ch->max_message_length) {
                rc = shmkit__corrupted_record(ch, position, header, "a type id or length no producer could write");
                break;
            }
            if (handler(context, type, ch->data + index + SHMKIT_RECORD_HEADER_LENGTH,
                        (uint32_t) (length - SHMKIT_RECORD_HEADER_LENGTH)) != 0) {
                break;
            }
            count++;
        }
        int64_t aligned = shmkit__aligned(length);
        if (ch->kind == SHMKIT_KIND_MANY_TO_ONE) {
            /* Producers claim space by CAS from zero: give it back zeroed. The slot says first which
             * record is being zeroed: if this process dies before the position below is committed,
             * the header may be gone, and with it the record's length. */
            __atomic_store_n(&ch->slot->retiring, (uint64_t) position << 32 | (uint64_t) aligned, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_RELEASE);
            memset(ch->data + index, 0, (size_t) aligned);
        }
        position += aligned;
        ch->position = position;
        advanced = 1;
        /* SYNC POINT: release store of the position commits the message; producers read it with an
         * acquire load before reusing the space. */
        __atomic_store_n(&ch->slot->position, position, __ATOMIC_RELEASE);
    }
    if (advanced) {
        shmkit__after_progress(ch, count);
    }
    return rc < 0 ? rc : count;
}

/* The segment's file shrank below the ring (truncated by another process): reading the missing
 * pages would end this process with SIGBUS. One fstat, for the waiting path only. */
static inline int shmkit__check_not_truncated(shmkit_channel *ch)
{
    struct stat st;
    int64_t needed = (int64_t) (ch->data - ch->base) + ch->capacity;
    if (fstat(ch->fd, &st) == 0 && (int64_t) st.st_size < needed) {
        return shmkit__fail(ch, SHMKIT_ECORRUPTED, "channel \"%s\" was truncated under this process: it is %lld "
                            "bytes, its header needs %lld; its missing pages cannot be read", ch->name,
                            (long long) st.st_size, (long long) needed);
    }
    return 0;
}

static inline int shmkit__available(shmkit_channel *ch)
{
    return shmkit__record_length(__atomic_load_n(shmkit__record_word(ch, ch->position), __ATOMIC_ACQUIRE)) > 0;
}

/*
 * Waits until a message may be available, for at most timeout_ns: spins briefly, then sleeps in the
 * kernel on the channel's futex word until a producer commits (in slices of 10 ms, to notice
 * unfinished records of dead producers). Returns 1 when a message is available, 0 when the time
 * passed first, or a negative code. A signal ends the wait early (returns 0), so a program can
 * notice its own flags.
 */
static inline int shmkit_channel_await(shmkit_channel *ch, int64_t timeout_ns)
{
    if (ch->slot == NULL) {
        return shmkit__fail(ch, SHMKIT_EINVALID, "await needs an attached consumer or subscriber");
    }
    int rc = shmkit__check_not_truncated(ch);
    if (rc < 0) {
        return rc;
    }
    int64_t deadline = shmkit__nanotime() + timeout_ns;
    for (int spin = 0; spin < 200; spin++) {
        if (shmkit__available(ch)) {
            return 1;
        }
        shmkit__spin_pause();
    }
    for (;;) {
        int64_t left = deadline - shmkit__nanotime();
        if (shmkit__available(ch)) {
            return 1;
        }
        if (left <= 0) {
            return 0;
        }
        __atomic_fetch_add(&ch->header->consumers_waiting, 1, __ATOMIC_SEQ_CST);
        /* SYNC POINT: the atomic increment above is a full fence on this side; the process-wide
         * barrier then runs one on every CPU running a producer that skips its commit fence (Java
         * producers whose process registered for it): either its record is visible to the check
         * below, or it sees us waiting and bumps the signal. Where the barrier fails, short slices
         * bound what a missed wake-up costs (see docs/channels.md, "Waiting and wake-ups"). Many-to-one
         * producers commit with a CAS, a full fence of their own: no barrier needed there. */
        int barrier = ch->kind == SHMKIT_KIND_MANY_TO_ONE || shmkit__process_wide_barrier();
        int64_t slice = barrier ? 10000000 : 1000000;
        uint32_t seq = __atomic_load_n(&ch->header->data_signal, __ATOMIC_SEQ_CST);
        int ready = shmkit__available(ch);
        int interrupted = 0;
        if (!ready) {
            interrupted = shmkit__futex_wait(&ch->header->data_signal, seq, left < slice ? left : slice) < 0
                    && errno == EINTR;
        }
        if (!ready && (rc = shmkit__check_not_truncated(ch)) < 0) {
            struct stat st; /* leave the count where its word is still in the file */
            if (fstat(ch->fd, &st) == 0 && st.st_size >= SHMKIT_CONSUMERS_WAITING_OFFSET + 4) {
                __atomic_fetch_sub(&ch->header->consumers_waiting, 1, __ATOMIC_SEQ_CST);
            }
            return rc;
        }
        __atomic_fetch_sub(&ch->header->consumers_waiting, 1, __ATOMIC_SEQ_CST);
        if (ready) {
            return 1;
        }
        if (interrupted) {
            return shmkit__available(ch);
        }
        uint64_t header = __atomic_load_n(shmkit__record_word(ch, ch->position), __ATOMIC_ACQUIRE);
        if (shmkit__record_length(header) <= 0) {
            rc = shmkit__check_idle(ch, ch->position, header);
            if (rc < 0) {
                return rc;
            }
        }
    }
}

#if defined(__cplusplus)
} /* extern "C" */
#endif

#endif /* SHMKIT_CHANNEL_H */
