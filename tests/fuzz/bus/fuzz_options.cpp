// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-bus-options: the a{sv} argument reader (bus::Options) on dictionaries built from
// the input: each entry is a key (length byte + bytes) and a value whose D-Bus type is
// chosen by a selector byte among the basic types, arrays, dicts and nested variants.
// sd-bus validates what it carries; what the reader gets is every well-formed a{sv}, and
// it must refuse what it does not accept with an error naming the key, never crash.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "alopex/bus/options.hpp"
#include "alopex/sd.hpp"
#include "../fuzz_input.hpp"

using namespace alopex;

namespace {

using fuzz::Input;

int append_value(sd_bus_message *m, Input &in, int depth)
{
    uint8_t sel = in.byte() % (depth > 2 ? 11 : 14);
    uint64_t v = in.number();
    switch (sel) {
    case 0: return sd_bus_message_append(m, "v", "b", int(v & 1));
    case 1: return sd_bus_message_append(m, "v", "y", uint8_t(v));
    case 2: return sd_bus_message_append(m, "v", "n", int16_t(v));
    case 3: return sd_bus_message_append(m, "v", "q", uint16_t(v));
    case 4: return sd_bus_message_append(m, "v", "i", int32_t(v));
    case 5: return sd_bus_message_append(m, "v", "u", uint32_t(v));
    case 6: return sd_bus_message_append(m, "v", "x", int64_t(v));
    case 7: return sd_bus_message_append(m, "v", "t", v);
    case 8: return sd_bus_message_append(m, "v", "s", in.raw_text(40).c_str());
    case 9: return sd_bus_message_append(m, "v", "d", double(v));
    case 10: return sd_bus_message_append(m, "v", "as", 2, in.raw_text(40).c_str(), in.raw_text(40).c_str());
    case 11: return sd_bus_message_append(m, "v", "a{ss}", 1, in.raw_text(40).c_str(), in.raw_text(40).c_str());
    case 12: return sd_bus_message_append(m, "v", "o", "/a/b");
    default: {
        int r = sd_bus_message_open_container(m, 'v', "v");
        if (r >= 0)
            r = append_value(m, in, depth + 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Input in{data, size};
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        return 0;
    sd_bus *raw = nullptr;
    if (sd_bus_new(&raw) < 0)
        return 0;
    BusPtr bus(raw);
    if (sd_bus_set_fd(raw, fds[0], fds[0]) < 0 || sd_bus_start(raw) < 0) {
        close(fds[1]);
        return 0;
    }
    sd_bus_message *m = nullptr;
    if (sd_bus_message_new_signal(raw, &m, "/a", "org.alopex.Fuzz", "S") >= 0) {
        MessagePtr msg(m);
        unsigned entries = in.byte() % 300;
        bool ok = sd_bus_message_open_container(m, 'a', "{sv}") >= 0;
        std::vector<std::string> keys;
        for (unsigned i = 0; ok && i < entries && in.n; ++i) {
            keys.push_back(in.raw_text(40));
            ok = sd_bus_message_open_container(m, 'e', "sv") >= 0 &&
                 sd_bus_message_append_basic(m, 's', keys.back().c_str()) >= 0 && append_value(m, in, 0) >= 0 &&
                 sd_bus_message_close_container(m) >= 0;
        }
        if (ok && sd_bus_message_close_container(m) >= 0 && sd_bus_message_seal(m, 1, 0) >= 0 &&
            sd_bus_message_rewind(m, 1) >= 0) {
            bus::Options opts;
            if (bus::read_value(m, opts, "options")) {
                for (const auto &k : keys) {
                    (void)opts.integer(k, -5, 70000);
                    (void)opts.string(k);
                    (void)opts.boolean(k);
                }
                (void)opts.done("for this kind");
            }
        }
    }
    close(fds[1]);
    return 0;
}
