// SPDX-License-Identifier: GPL-2.0-or-later
// Test helper: small builders for models, rules and CIDRs.
#pragma once

#include <sys/socket.h>

#include <string>

#include "compile/compile.hpp"
#include "net_test.hpp"

namespace alopex::fwd::test {

// "10.0.0.0/8", or a bare address as its host prefix; host bits are kept as written.
inline net::Prefix cidr(const std::string &text) { return alopex::test::pfx(text); }
inline net::Address host(const std::string &text) { return alopex::test::ip(text); }

inline AddrMatch cidrs(std::initializer_list<const char *> list)
{
    AddrMatch m;
    m.kind = AddrMatch::Kind::cidrs;
    for (const char *s : list)
        m.cidrs.push_back(cidr(s));
    return m;
}

inline AddrMatch named(AddrMatch::Kind k, std::string name)
{
    AddrMatch m;
    m.kind = k;
    m.name = std::move(name);
    return m;
}

inline Rule tcp_accept(uint16_t port, Proto proto = Proto::tcp)
{
    Rule r;
    r.proto = proto;
    r.dport = {{port, port}};
    r.verdict = Verdict::accept;
    r.counter = false;
    return r;
}

inline Zone zone(std::string name, std::vector<std::string> ifs = {})
{
    Zone z;
    z.name = std::move(name);
    z.interfaces = std::move(ifs);
    return z;
}

inline void add_zone(Model &m, Zone z)
{
    m.zone_order.push_back(z.name);
    std::string n = z.name;
    m.zones.emplace(n, std::move(z));
}

inline RuntimeRule runtime(uint64_t id, std::string zone, Rule r, uint64_t expires = 0)
{
    RuntimeRule rr;
    rr.id = id;
    rr.zone = std::move(zone);
    rr.rule = std::move(r);
    rr.expires_at_us = expires;
    return rr;
}

} // namespace alopex::fwd::test
