/*
 * channel_consumer: receive the messages of a shmkit channel from C and print them.
 *
 *   channel_consumer NAME [--count N] [--timeout-ms T] [--subscriber [SUBSCRIBER]] [--allow-foreign]
 *
 * Attaches as the consumer of a one-to-one or many-to-one channel (resuming where the previous
 * consumer stopped), or as a subscriber of a publish-subscribe channel (anonymous, or named with
 * --subscriber SUBSCRIBER), and prints one line per message:
 *
 *   TYPE<TAB>LENGTH<TAB>PAYLOAD
 *
 * PAYLOAD is the bytes as text when they are all printable ASCII (and do not start with "hex:"),
 * otherwise "hex:" and two lowercase hex digits per byte. It stops after N messages (exit 0) or when
 * T ms have passed (exit 0 without --count; exit 6 when fewer than N messages came). Other exit
 * codes, as the shm command's: 1 failure (not a channel, corrupted, slot in use...), 2 usage,
 * 3 no such channel, 5 permission denied. SIGINT and SIGTERM detach cleanly (exit 130 / 143).
 *
 * Build (from the repository root):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I native/include -o channel_consumer native/examples/channel_consumer.c
 * or: make -C native
 */
#include <shmkit/channel.h>

#include <signal.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int signal)
{
    stop_signal = signal;
}

struct printer {
    long long printed;
};

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int printable_text(const unsigned char *p, uint32_t length)
{
    if (length >= 4 && memcmp(p, "hex:", 4) == 0) {
        return 0;
    }
    for (uint32_t i = 0; i < length; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static int print_message(void *context, int32_t type, const void *payload, uint32_t length)
{
    struct printer *printer = (struct printer *) context;
    const unsigned char *p = (const unsigned char *) payload;
    printf("%d\t%u\t", (int) type, (unsigned) length);
    if (printable_text(p, length)) {
        fwrite(p, 1, length, stdout);
    } else {
        static const char digits[] = "0123456789abcdef";
        fputs("hex:", stdout);
        for (uint32_t i = 0; i < length; i++) {
            putchar(digits[p[i] >> 4]);
            putchar(digits[p[i] & 15]);
        }
    }
    putchar('\n');
    printer->printed++;
    return 0;
}

static int exit_code_for(int rc)
{
    switch (rc) {
    case SHMKIT_ENOTFOUND:
        return 3;
    case SHMKIT_EACCESS:
        return 5;
    case SHMKIT_EINVALID:
        return 2;
    default:
        return 1;
    }
}

static int usage(const char *program, const char *problem)
{
    fprintf(stderr, "channel_consumer: %s\nusage: %s NAME [--count N] [--timeout-ms T] [--subscriber [SUBSCRIBER]] "
            "[--allow-foreign]\n", problem, program);
    return 2;
}

static int parse_count(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 0) {
        return -1;
    }
    *out = value;
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = NULL;
    const char *subscriber_name = NULL;
    int subscriber = 0;
    unsigned flags = 0;
    long long count = -1;
    long long timeout_ms = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &count) < 0) {
                return usage(argv[0], "--count needs a number of messages, 0 or more");
            }
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &timeout_ms) < 0) {
                return usage(argv[0], "--timeout-ms needs a number of milliseconds, 0 or more");
            }
        } else if (strcmp(argv[i], "--subscriber") == 0) {
            subscriber = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-') {
                subscriber_name = argv[++i];
            }
        } else if (strcmp(argv[i], "--allow-foreign") == 0) {
            flags |= SHMKIT_OPEN_ALLOW_FOREIGN_OWNER;
        } else if (argv[i][0] == '-' || name != NULL) {
            return usage(argv[0], "unexpected argument");
        } else {
            name = argv[i];
        }
    }
    if (name == NULL) {
        return usage(argv[0], "give the channel's name");
    }

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal; /* no SA_RESTART: a signal ends the futex wait */
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    shmkit_channel ch;
    int rc = shmkit_channel_open(&ch, name, flags);
    if (rc == 0) {
        /* --subscriber on a channel that has a consumer is refused by attach_subscriber itself. */
        if (ch.kind == SHMKIT_KIND_PUBLISH_SUBSCRIBE || subscriber) {
            rc = shmkit_channel_attach_subscriber(&ch, subscriber_name);
        } else {
            rc = shmkit_channel_attach_consumer(&ch);
        }
    }
    if (rc < 0) {
        fprintf(stderr, "channel_consumer: %s\n", ch.error);
        shmkit_channel_close(&ch);
        return exit_code_for(rc);
    }
    if (ch.lost_bytes > 0) {
        fprintf(stderr, "channel_consumer: subscriber \"%s\" missed %lld bytes of messages while it was away\n",
                subscriber_name, (long long) ch.lost_bytes);
    }

    struct printer printer = {0};
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : monotonic_ns() + timeout_ms * 1000000;
    int exit_code = 0;
    while (count < 0 || printer.printed < count) {
        if (stop_signal) {
            exit_code = 128 + stop_signal;
            break;
        }
        int limit = count < 0 || count - printer.printed > 256 ? 256 : (int) (count - printer.printed);
        int got = shmkit_channel_poll(&ch, print_message, &printer, limit);
        if (got < 0) {
            fprintf(stderr, "channel_consumer: %s\n", ch.error);
            exit_code = 1;
            break;
        }
        if (got > 0) {
            continue;
        }
        fflush(stdout);
        int64_t left = deadline - monotonic_ns();
        if (left <= 0) {
            if (count >= 0) {
                fprintf(stderr, "channel_consumer: timed out after %lld ms: received %lld of %lld messages\n",
                        timeout_ms, printer.printed, count);
                exit_code = 6;
            }
            break;
        }
        int ready = shmkit_channel_await(&ch, left < 100000000 ? left : 100000000);
        if (ready < 0) {
            fprintf(stderr, "channel_consumer: %s\n", ch.error);
            exit_code = 1;
            break;
        }
    }
    fflush(stdout);
    shmkit_channel_close(&ch);
    return exit_code;
}
