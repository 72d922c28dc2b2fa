// SPDX-License-Identifier: GPL-2.0-or-later
// Shared bits of the DHCP unit tests: a fake server's replies and action filters.
#pragma once

#include <cstdint>
#include <vector>

#include "client.hpp"
#include "packet.hpp"

namespace dhcp_test {

using namespace alopex::dhcp;

inline constexpr int64_t S = 1'000'000;
inline const Mac mac = {0x02, 0, 0, 0, 0, 0x11};
inline const Ipv4 server = 0xc0000201;     // 192.0.2.1
inline const Ipv4 offered = 0xc000020a;    // 192.0.2.10

inline ReplySpec reply(MessageType t, uint32_t xid, uint32_t lease = 120)
{
    ReplySpec s;
    s.type = t;
    s.xid = xid;
    s.chaddr = mac;
    s.yiaddr = offered;
    s.server_id = server;
    if (t != MessageType::nak) {
        s.lease_time = lease;
        s.subnet_mask = 0xffffff00;
        s.routers = {server};
        s.dns = {0xc0000235};
        s.domain = "example.net";
        s.mtu = 1400;
    }
    return s;
}

template <typename T> std::vector<T> all(const Actions &a)
{
    std::vector<T> r;
    for (auto &x : a)
        if (auto *p = std::get_if<T>(&x))
            r.push_back(*p);
    return r;
}

template <typename T> const T *first(const Actions &a)
{
    for (auto &x : a)
        if (auto *p = std::get_if<T>(&x))
            return p;
    return nullptr;
}

// The last ArmTimer deadline in `a` (the one in force).
inline std::optional<int64_t> deadline(const Actions &a)
{
    std::optional<int64_t> r;
    for (auto &x : a)
        if (auto *p = std::get_if<ArmTimer>(&x))
            r = p->at_usec;
    return r;
}

// A deterministic RNG: a fixed sequence, repeating.
struct SeqRng {
    std::vector<uint32_t> values;
    size_t i = 0;
    uint32_t operator()() { return values[i++ % values.size()]; }
};

} // namespace dhcp_test
