// A C++ consumer of a shmkit channel, written as a C++ program would use native/include/shmkit/channel.h:
// the header included from C++ (no extern "C" around it), a lambda as the handler, std::string,
// a RAII guard that closes the channel.
//
//   channel_consumer_cpp NAME COUNT [SUBSCRIBER]    (SUBSCRIBER "-": anonymous)
//
// Prints TYPE<TAB>LENGTH<TAB>PAYLOAD per message, as native/examples/channel_consumer.c, and exits 0
// after COUNT messages; 1 with the header's message on failure; 6 when 60 s pass first.
#include <shmkit/channel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Channel {
    shmkit_channel ch;
    Channel() = default;
    Channel(const Channel &) = delete;
    Channel &operator=(const Channel &) = delete;
    ~Channel() { shmkit_channel_close(&ch); }
};

struct Printer {
    long long printed = 0;
    std::string line;
};

bool printable(const unsigned char *p, std::uint32_t length)
{
    if (length >= 4 && std::string(reinterpret_cast<const char *>(p), 4) == "hex:") {
        return false;
    }
    for (std::uint32_t i = 0; i < length; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s NAME COUNT [SUBSCRIBER]\n", argv[0]);
        return 2;
    }
    const long long count = std::atoll(argv[2]);
    Channel channel;
    shmkit_channel *ch = &channel.ch;
    int rc = shmkit_channel_open(ch, argv[1], 0);
    if (rc == 0) {
        if (argc > 3) {
            rc = shmkit_channel_attach_subscriber(ch, std::string(argv[3]) == "-" ? nullptr : argv[3]);
        } else {
            rc = shmkit_channel_attach_consumer(ch);
        }
    }
    if (rc < 0) {
        std::fprintf(stderr, "%s\n", ch->error);
        return 1;
    }
    Printer printer;
    shmkit_message_handler handler = [](void *context, std::int32_t type, const void *payload,
                                        std::uint32_t length) -> int {
        auto *out = static_cast<Printer *>(context);
        const auto *p = static_cast<const unsigned char *>(payload);
        out->line = std::to_string(type) + "\t" + std::to_string(length) + "\t";
        if (printable(p, length)) {
            out->line.append(reinterpret_cast<const char *>(p), length);
        } else {
            static const char digits[] = "0123456789abcdef";
            out->line += "hex:";
            for (std::uint32_t i = 0; i < length; i++) {
                out->line += digits[p[i] >> 4];
                out->line += digits[p[i] & 15];
            }
        }
        std::puts(out->line.c_str());
        out->printed++;
        return 0;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (printer.printed < count) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "timed out after %lld of %lld messages\n", printer.printed, count);
            return 6;
        }
        long long left = count - printer.printed;
        int n = shmkit_channel_poll(ch, handler, &printer, left < 64 ? static_cast<int>(left) : 64);
        if (n < 0) {
            std::fprintf(stderr, "%s\n", ch->error);
            return 1;
        }
        if (n == 0) {
            std::fflush(stdout);
            if (shmkit_channel_await(ch, 100 * 1000000LL) < 0) {
                std::fprintf(stderr, "%s\n", ch->error);
                return 1;
            }
        }
    }
    std::fflush(stdout);
    return 0;
}
