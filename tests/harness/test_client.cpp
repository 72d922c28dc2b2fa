// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-client: a D-Bus client for integration tests where busctl falls short.
// busctl is the preferred, independent client (tests use it wherever it can), but:
//  - it cannot use a returned fd: `busctl call` prints only the fd's number, and the fd
//    is closed when busctl exits, so OpenDevice/OpenOvsdb results cannot be exercised;
//  - on a failed call it prints only the error *message* ("Call failed: ...") and never
//    the error *name* (org.alopex.Error.NotAuthorized, ...), which is the API contract;
// So this client prints "ERROR <name>: <message>", writes to / reads from a returned fd,
// and repeats a call cheaply on one connection (the torn-write test makes 1000 calls).
//
//   alopex-test-client [OPTIONS] DEST PATH IFACE METHOD [ARG...]
//   ARG:  s:TEXT | u:NUMBER | ay:TEXT | ay@FILE | ayN:COUNT (COUNT bytes 'x') |
//         h:FD (this process's fd FD: 0 its standard input, 1 its output, ...)
//   --repeat N          make the call N times (stops at the first error)
//   --alternate ARG     on every second repetition use ARG instead of the last argument
//   --fd-write TEXT     for an 'h' reply: write TEXT to the fd
//   --fd-exchange TEXT  for an 'h' reply: write TEXT, then read one JSON value and print it
//   --no-interactive    do not allow interactive authorization
//   --wait-stdin        once connected, print "ready <pid>" and wait for a line on stdin
//                       before calling (lets a test register a polkit agent for this pid)
// Success: each reply value on its own line (s and o as text, 'h' prints "fd <char|socket|other>"), exit 0.
// Failure: "ERROR <name>: <message>" on stdout, exit 1. Usage/local errors: exit 2.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/sd.hpp"

using namespace alopex;

namespace {

struct Options {
    long repeat = 1;
    std::string alternate, fd_write, fd_exchange;
    bool has_alternate = false, interactive = true, wait_stdin = false;
    std::vector<std::string> pos;
};

[[noreturn]] void die(const std::string &what)
{
    std::fprintf(stderr, "alopex-test-client: %s\n", what.c_str());
    std::exit(2);
}

int append_arg(sd_bus_message *m, const std::string &arg)
{
    if (arg.rfind("s:", 0) == 0)
        return sd_bus_message_append_basic(m, 's', arg.c_str() + 2);
    if (arg.rfind("u:", 0) == 0) {
        uint32_t v = static_cast<uint32_t>(std::stoul(arg.substr(2)));
        return sd_bus_message_append_basic(m, 'u', &v);
    }
    if (arg.rfind("h:", 0) == 0) {
        int fd = std::stoi(arg.substr(2));
        return sd_bus_message_append_basic(m, 'h', &fd);
    }
    std::string bytes;
    if (arg.rfind("ay:", 0) == 0) {
        bytes = arg.substr(3);
    } else if (arg.rfind("ay@", 0) == 0) {
        std::ifstream f(arg.substr(3), std::ios::binary);
        if (!f)
            die("cannot read " + arg.substr(3));
        bytes.assign(std::istreambuf_iterator<char>(f), {});
    } else if (arg.rfind("ayN:", 0) == 0) {
        bytes.assign(std::stoul(arg.substr(4)), 'x');
    } else {
        die("bad argument " + arg);
    }
    return sd_bus_message_append_array(m, 'y', bytes.data(), bytes.size());
}

// Reads one complete JSON value (object or array) from fd, with a deadline.
std::string read_json(int fd)
{
    std::string buf;
    int depth = 0;
    bool in_str = false, esc = false, started = false;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            die("timed out reading from the fd");
        char c[4096];
        ssize_t n = read(fd, c, sizeof c);
        if (n <= 0)
            die("fd closed before a complete JSON value");
        for (ssize_t i = 0; i < n; ++i) {
            char ch = c[i];
            buf.push_back(ch);
            if (in_str) {
                if (esc)
                    esc = false;
                else if (ch == '\\')
                    esc = true;
                else if (ch == '"')
                    in_str = false;
            } else if (ch == '"') {
                in_str = true;
            } else if (ch == '{' || ch == '[') {
                ++depth;
                started = true;
            } else if (ch == '}' || ch == ']') {
                if (--depth == 0 && started)
                    return buf;
            }
        }
    }
}

void use_fd(int fd, const Options &o)
{
    struct stat st {};
    if (fstat(fd, &st) < 0)
        die("fstat on the received fd failed");
    std::printf("fd %s\n", S_ISCHR(st.st_mode) ? "char" : S_ISSOCK(st.st_mode) ? "socket" : "other");
    const std::string &out = !o.fd_exchange.empty() ? o.fd_exchange : o.fd_write;
    for (size_t off = 0; off < out.size();) {
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, 10000) <= 0)
            die("timed out writing to the fd");
        ssize_t n = write(fd, out.data() + off, out.size() - off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            die(std::string("write to the fd failed: ") + strerror(errno));
        }
        off += static_cast<size_t>(n);
    }
    if (!o.fd_exchange.empty())
        std::printf("%s\n", read_json(fd).c_str());
}

int print_reply(sd_bus_message *reply, const Options &o)
{
    for (;;) {
        char type = 0;
        const char *contents = nullptr;
        int r = sd_bus_message_peek_type(reply, &type, &contents);
        if (r <= 0)
            return r;
        if (type == 's' || type == 'o') {
            const char *s = nullptr;
            sd_bus_message_read_basic(reply, type, &s);
            std::printf("%s\n", s);
        } else if (type == 'h') {
            int fd = -1;
            sd_bus_message_read_basic(reply, 'h', &fd);
            use_fd(fd, o);
        } else {
            std::printf("(%c)\n", type);
            sd_bus_message_skip(reply, nullptr);
        }
    }
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (++i >= argc)
                die(a + " needs a value");
            return argv[i];
        };
        if (a == "--repeat")
            o.repeat = std::stol(next());
        else if (a == "--alternate")
            o.alternate = next(), o.has_alternate = true;
        else if (a == "--fd-write")
            o.fd_write = next();
        else if (a == "--fd-exchange")
            o.fd_exchange = next();
        else if (a == "--no-interactive")
            o.interactive = false;
        else if (a == "--wait-stdin")
            o.wait_stdin = true;
        else
            o.pos.push_back(a);
    }
    if (o.pos.size() < 4)
        die("usage: alopex-test-client [OPTIONS] DEST PATH IFACE METHOD [ARG...]");
    sd_bus *b = nullptr;
    int r = sd_bus_open_system(&b);
    BusPtr bus(b);
    if (r < 0)
        die(std::string("cannot connect: ") + strerror(-r));
    if (o.wait_stdin) {
        std::printf("ready %ld\n", static_cast<long>(getpid()));
        std::fflush(stdout);
        int c = 0;
        while ((c = std::getchar()) != EOF && c != '\n') {
        }
    }
    for (long n = 0; n < o.repeat; ++n) {
        sd_bus_message *raw = nullptr;
        r = sd_bus_message_new_method_call(bus.get(), &raw, o.pos[0].c_str(), o.pos[1].c_str(),
                                           o.pos[2].c_str(), o.pos[3].c_str());
        if (r < 0)
            die(std::string("cannot build the call: ") + strerror(-r));
        MessagePtr call(raw);
        sd_bus_message_set_allow_interactive_authorization(call.get(), o.interactive);
        for (size_t k = 4; k < o.pos.size(); ++k) {
            bool alt = o.has_alternate && k + 1 == o.pos.size() && n % 2 == 1;
            if ((r = append_arg(call.get(), alt ? o.alternate : o.pos[k])) < 0)
                die("cannot append " + o.pos[k] + ": " + strerror(-r));
        }
        BusError err;
        sd_bus_message *rep = nullptr;
        r = sd_bus_call(bus.get(), call.get(), 0, &err, &rep);
        MessagePtr reply(rep);
        if (r < 0) {
            std::printf("ERROR %s: %s\n", err.is_set() ? err.name() : "errno",
                        err.is_set() ? err.message() : strerror(-r));
            return 1;
        }
        if (n + 1 == o.repeat && print_reply(reply.get(), o) < 0)
            die("cannot read the reply");
    }
    std::fflush(stdout);
    return 0;
}
