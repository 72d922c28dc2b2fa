// SPDX-License-Identifier: GPL-2.0-or-later
// Set definitions and their elements: CIDR lists normalised to sorted, disjoint,
// non-adjacent inclusive ranges (the kernel's interval sets refuse overlaps), port range
// merging, and the key encodings (single fields unpadded; concatenations pad each field
// to 4 bytes, as nft does).
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "compile/internal.hpp"

namespace alopex::fwd::compile::detail {

namespace {

using u128 = unsigned __int128;

u128 load(const uint8_t *a, size_t len)
{
    u128 v = 0;
    for (size_t i = 0; i < len; ++i)
        v = (v << 8) | a[i];
    return v;
}

void store(u128 v, std::array<uint8_t, 16> &out, size_t len)
{
    for (size_t i = len; i-- > 0;) {
        out[i] = uint8_t(v & 0xff);
        v >>= 8;
    }
}

} // namespace

bool has_family(const std::vector<net::Prefix> &cidrs, uint8_t family)
{
    return std::any_of(cidrs.begin(), cidrs.end(),
                       [&](const net::Prefix &c) { return c.family() == family; });
}

std::vector<AddrRange> merge_cidrs(const std::vector<net::Prefix> &cidrs, uint8_t family)
{
    const size_t len = addr_len(family);
    std::vector<AddrRange> out;
    if (len == 0)
        return out;
    const unsigned bits = unsigned(len * 8);
    const u128 top = bits == 128 ? ~u128(0) : (u128(1) << bits) - 1;
    // Numbers, not byte arrays: sorting 100,000 networks stays cheap.
    std::vector<std::pair<u128, u128>> r;
    r.reserve(cidrs.size());
    for (const net::Prefix &c : cidrs) {
        if (c.family() != family)
            continue;
        const unsigned prefix = std::min<unsigned>(c.length(), bits);
        const u128 host = prefix == 0 ? top : (prefix == bits ? 0 : (top >> prefix));
        const u128 first = load(c.address().data(), len) & ~host & top;
        r.emplace_back(first, first | host);
    }
    std::sort(r.begin(), r.end());
    std::vector<std::pair<u128, u128>> merged;
    merged.reserve(r.size());
    for (const auto &[first, last] : r) {
        // Overlapping or touching the previous range (which cannot reach past `top`).
        if (!merged.empty() && (merged.back().second == top || first <= merged.back().second + 1)) {
            merged.back().second = std::max(merged.back().second, last);
            continue;
        }
        merged.emplace_back(first, last);
    }
    out.resize(merged.size());
    for (size_t i = 0; i < merged.size(); ++i) {
        store(merged[i].first, out[i].first, len);
        store(merged[i].second, out[i].last, len);
    }
    return out;
}

std::vector<PortRange> merge_ports(std::vector<PortRange> ports)
{
    std::sort(ports.begin(), ports.end());
    std::vector<PortRange> out;
    for (PortRange p : ports) {
        if (p.last < p.first)
            std::swap(p.first, p.last);
        if (!out.empty() && uint32_t(p.first) <= uint32_t(out.back().last) + 1) {
            out.back().last = std::max(out.back().last, p.last);
            continue;
        }
        out.push_back(p);
    }
    return out;
}

nft::Set make_set(std::string name, std::vector<nft::DataType> key, bool interval,
                  std::string origin)
{
    nft::Set s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    s.origin = std::move(origin);
    return s;
}

void add_addr_ranges(nft::Set &s, uint8_t family, const std::vector<AddrRange> &ranges,
                     const std::string &origin)
{
    const size_t len = addr_len(family);
    s.elements.reserve(s.elements.size() + ranges.size());
    for (const AddrRange &a : ranges) {
        nft::Element e;
        e.key.assign(a.first.begin(), a.first.begin() + len);
        e.key_end.assign(a.last.begin(), a.last.begin() + len);
        e.origin = origin;
        s.elements.push_back(std::move(e));
    }
}

void add_port_ranges(nft::Set &s, const std::vector<PortRange> &ports, const std::string &origin)
{
    for (const PortRange &p : ports) {
        nft::Element e;
        e.key = be16(p.first);
        e.key_end = be16(p.last);
        e.origin = origin;
        s.elements.push_back(std::move(e));
    }
}

Bytes rt_key(uint8_t family, const uint8_t *addr, uint8_t proto, uint16_t port)
{
    const size_t len = addr_len(family);
    Bytes k(len + 8, 0);
    std::memcpy(k.data(), addr, len);
    k[len] = proto;
    k[len + 4] = uint8_t(port >> 8);
    k[len + 5] = uint8_t(port & 0xff);
    return k;
}

} // namespace alopex::fwd::compile::detail
