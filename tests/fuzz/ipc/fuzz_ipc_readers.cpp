// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-ipc-readers: what alopexctl and alopex-wait-online read from linkd and fwd, built
// from the input as a peer could send it: a GetManagedObjects reply (objects with
// org.alopex.Link1.Link and other interfaces) and a Firewall1 GetAll dictionary, whose
// properties are the XML's names (or others) with values of the XML's signature (or of
// another one, chosen from the input). sd-bus checks that the message is well formed; the
// readers (link1::parse_managed_objects, firewall1::parse_properties) must accept what
// has the XML's types and refuse the rest with an error naming the property, never crash.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "alopex/ipc/firewall1_spec.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/sd.hpp"
#include "firewall1_client.hpp"
#include "../fuzz_input.hpp"
#include "link1_client.hpp"

using namespace alopex;

namespace {

using fuzz::Input;

// Signatures a wrong value may have.
constexpr const char *others[] = {"s", "u", "i", "b", "t", "as", "a{ss}", "a(sss)", "a(sasssb)", "a{st}", "(ii)", "v"};

// The end of the single complete type starting at `sig`.
const char *type_end(const char *sig)
{
    switch (*sig) {
    case 'a':
        return type_end(sig + 1);
    case '(':
    case '{': {
        char close = *sig == '(' ? ')' : '}';
        ++sig;
        while (*sig && *sig != close)
            sig = type_end(sig);
        return *sig ? sig + 1 : sig;
    }
    default:
        return *sig ? sig + 1 : sig;
    }
}

// Appends one value of the complete type at `sig`, contents from the input.
int append(sd_bus_message *m, const char *sig, Input &in, int depth)
{
    std::string type(sig, type_end(sig));
    char t = type[0];
    switch (t) {
    case 'a': {
        std::string inner = type.substr(1);
        int r = sd_bus_message_open_container(m, 'a', inner.c_str());
        for (int i = 0, count = in.byte() % 4; r >= 0 && i < count; ++i)
            r = append(m, inner.c_str(), in, depth + 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    case '(':
    case '{': {
        std::string inner = type.substr(1, type.size() - 2);
        int r = sd_bus_message_open_container(m, t == '(' ? 'r' : 'e', inner.c_str());
        for (const char *s = inner.c_str(); r >= 0 && *s; s = type_end(s))
            r = append(m, s, in, depth + 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    case 'v': {
        const char *contents = depth > 3 ? "s" : others[in.byte() % std::size(others)];
        int r = sd_bus_message_open_container(m, 'v', contents);
        if (r >= 0)
            r = append(m, contents, in, depth + 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    case 's': {
        std::string s = in.ascii_text(24);
        return sd_bus_message_append_basic(m, 's', s.c_str());
    }
    case 'o':
        return sd_bus_message_append_basic(m, 'o', in.byte() & 1 ? "/org/alopex/Link1/link/1" : "/x");
    case 'b': {
        int b = in.byte() & 1;
        return sd_bus_message_append_basic(m, 'b', &b);
    }
    default: {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v = (v << 8) | in.byte();
        return sd_bus_message_append_basic(m, t, &v);   // y n q i u x t d h: the low bytes
    }
    }
}

// One a{sv} dictionary of properties of `iface`: known names with the XML's signature or
// another, unknown names with anything.
int append_properties(sd_bus_message *m, const bus::InterfaceSpec &iface, Input &in)
{
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (int i = 0, count = in.byte() % 12; r >= 0 && i < count; ++i) {
        uint8_t pick = in.byte();
        std::string name;
        const char *sig = others[in.byte() % std::size(others)];
        if (pick % 8 != 0 && !iface.properties.empty()) {
            const auto *p = iface.properties[pick % iface.properties.size()];
            name = p->name;
            if (pick % 5 != 0)
                sig = p->signature;
        } else {
            name = in.ascii_text(24);
        }
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append_basic(m, 's', name.c_str());
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'v', sig);
        if (r >= 0)
            r = append(m, sig, in, 1);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

int append_objects(sd_bus_message *m, Input &in)
{
    int r = sd_bus_message_open_container(m, 'a', "{oa{sa{sv}}}");
    for (int i = 0, count = in.byte() % 5; r >= 0 && i < count; ++i) {
        std::string path = "/org/alopex/Link1/link/" + std::to_string(in.byte());
        r = sd_bus_message_open_container(m, 'e', "oa{sa{sv}}");
        if (r >= 0)
            r = sd_bus_message_append_basic(m, 'o', path.c_str());
        if (r >= 0)
            r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
        for (int k = 0, ifaces = 1 + in.byte() % 2; r >= 0 && k < ifaces; ++k) {
            bool link = in.byte() % 4 != 0;
            const auto &spec = link ? ipc::link1::link::spec : ipc::link1::manager::spec;
            r = sd_bus_message_open_container(m, 'e', "sa{sv}");
            if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', spec.name);
            if (r >= 0)
                r = append_properties(m, spec, in);
            if (r >= 0)
                r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

// A message to build on, sealed and rewound as received messages are.
MessagePtr message(sd_bus *bus)
{
    sd_bus_message *m = nullptr;
    if (sd_bus_message_new_signal(bus, &m, "/a", "org.alopex.Fuzz", "S") < 0)
        return nullptr;
    return MessagePtr(m);
}

bool seal(sd_bus_message *m) { return sd_bus_message_seal(m, 1, 0) >= 0 && sd_bus_message_rewind(m, 1) >= 0; }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sd_bus *bus = [] {
        int fds[2];
        sd_bus *b = nullptr;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&b) < 0 ||
            sd_bus_set_fd(b, fds[0], fds[0]) < 0 || sd_bus_start(b) < 0)
            abort();
        return b;   // kept for the process' lifetime
    }();
    Input in{data, size};
    if (in.byte() & 1) {
        auto m = message(bus);
        if (m && append_objects(m.get(), in) >= 0 && seal(m.get()))
            (void)ipc::link1::parse_managed_objects(m.get());
    } else {
        auto m = message(bus);
        if (m && append_properties(m.get(), ipc::firewall1::api::spec, in) >= 0 && seal(m.get()))
            (void)ipc::firewall1::parse_properties(m.get());
    }
    return 0;
}
