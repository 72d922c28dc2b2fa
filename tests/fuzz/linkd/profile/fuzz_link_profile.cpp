// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as one linkd profile file: any outcome but a crash. A refusal names the
// file; an accepted profile is matched against a link and planned against a small
// snapshot, and the plan must be well-formed (names valid, families consistent).
#include <net/if.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "match.hpp"
#include "plan.hpp"

using namespace alopex::linkd::profile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    Profiles p;
    auto r = parse_file(text, "fuzz.toml", p);
    if (!r) {
        if (!r.error().message.starts_with("fuzz.toml"))
            abort();
        return 0;
    }
    if (p.links.size() + p.netdevs.size() != 1 || !validate(p))
        return 0;
    alopex::netlink::Snapshot s;
    alopex::netlink::Link l;
    l.ifindex = 2;
    l.name = "eth0";
    l.mac = alopex::net::Mac::eui48({2, 0, 0, 0, 0, 1});
    l.mtu = 1500;
    l.flags = IFF_UP;
    s.links[2] = l;
    (void)settings_for(p, l);
    auto pl = plan(p, s, Owned{});
    for (const auto &q : pl.requests) {
        using Op = alopex::linkd::rtnl::Request::Op;
        if (q.op == Op::CreateNetdev && !valid_ifname(q.netdev.name))
            abort();
        if (q.op == Op::AddAddress && q.address.family != AF_INET && q.address.family != AF_INET6)
            abort();
        if (q.op == Op::AddAddress && q.address.address.family() != q.address.family)
            abort();
        if (q.op == Op::AddRoute && !q.route.gateway.empty() && q.route.gateway.family() != q.route.family)
            abort();
    }
    return 0;
}
