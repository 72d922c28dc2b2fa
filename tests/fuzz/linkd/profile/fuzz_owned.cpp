// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-linkd-owned: bytes as linkd's owned.json ($RUNTIME_DIRECTORY/owned.json), read
// back at start. Any outcome but a crash; what parses must hold only valid values, and
// round-trip, and be usable by the planner (forget_absent, plan) against a snapshot.
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "owned.hpp"
#include "plan.hpp"
#include "syntax.hpp"

using namespace alopex::linkd::profile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto o = parse_owned(text);
    if (!o)
        return 0;
    for (const auto &n : o->netdevs)
        if (!valid_ifname(n))
            abort();
    for (const auto &a : o->addresses)
        if (a.ifindex <= 0 || (a.family != AF_INET && a.family != AF_INET6) ||
            a.prefixlen > (a.family == AF_INET ? 32 : 128) || a.address.family() != a.family)
            abort();
    for (const auto &r : o->routes)
        if ((r.family != AF_INET && r.family != AF_INET6) || r.dst_len > (r.family == AF_INET ? 32 : 128) ||
            r.oif < 0 || r.dst.family() != r.family)
            abort();
    auto again = parse_owned(format_owned(*o));
    if (!again || !(*again == *o))
        abort();
    alopex::netlink::Snapshot s;
    alopex::netlink::Link l;
    l.ifindex = 3;
    l.name = "br0";
    l.kind = "bridge";
    s.links[3] = l;
    (void)plan(Profiles{}, s, *o);
    Owned copy = *o;
    forget_absent(copy, s);
    return 0;
}
