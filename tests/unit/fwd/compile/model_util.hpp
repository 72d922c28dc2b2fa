// SPDX-License-Identifier: GPL-2.0-or-later
// Test helper: small builders for models, rules and CIDRs.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdexcept>
#include <string>

#include "compile/compile.hpp"

namespace alopex::fwd::test {

inline Cidr cidr(const std::string &text)
{
    Cidr c;
    const auto slash = text.find('/');
    const std::string a = text.substr(0, slash);
    if (inet_pton(AF_INET, a.c_str(), c.addr.data()) == 1) {
        c.family = AF_INET;
        c.prefix = 32;
    } else if (inet_pton(AF_INET6, a.c_str(), c.addr.data()) == 1) {
        c.family = AF_INET6;
        c.prefix = 128;
    } else {
        throw std::invalid_argument(text);
    }
    if (slash != std::string::npos)
        c.prefix = uint8_t(std::stoi(text.substr(slash + 1)));
    return c;
}

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
