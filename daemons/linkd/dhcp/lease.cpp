// SPDX-License-Identifier: GPL-2.0-or-later
#include "lease.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace alopex::dhcp {

namespace {

constexpr int64_t usec = 1'000'000;

uint8_t classful_prefix(Ipv4 a)
{
    uint8_t first = uint8_t(a >> 24);
    return first < 128 ? 8 : first < 192 ? 16 : 24;
}

std::string join_ips(const std::vector<Ipv4> &v)
{
    std::string s;
    for (Ipv4 a : v)
        s += (s.empty() ? "" : " ") + ip_to_string(a);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> out;
    while (!s.empty()) {
        size_t p = s.find(sep);
        std::string_view part = s.substr(0, p);
        if (!part.empty())
            out.push_back(part);
        if (p == std::string_view::npos)
            break;
        s.remove_prefix(p + 1);
    }
    return out;
}

// Bytes of the file quoted in an error: at most 64, control characters as '?'.
std::string shown(std::string_view s)
{
    std::string out(s.substr(0, 64));
    for (char &c : out)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            c = '?';
    return out;
}

template <typename T> Result<T> number(std::string_view s, std::string_view key)
{
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return failf(EINVAL, "lease file: {}: '{}' is not a number", key, shown(s));
    return v;
}

Result<Route> parse_route(std::string_view s)
{
    // DEST/LEN,GATEWAY
    size_t slash = s.find('/'), comma = s.find(',');
    if (slash == std::string_view::npos || comma == std::string_view::npos || comma < slash)
        return failf(EINVAL, "lease file: routes: '{}' is not DEST/LEN,GW", shown(s));
    auto d = parse_ip(s.substr(0, slash));
    auto len = number<unsigned>(s.substr(slash + 1, comma - slash - 1), "routes");
    auto gw = parse_ip(s.substr(comma + 1));
    if (!d || !len || !gw || *len > 32 || (*d & ~prefixlen_to_netmask(uint8_t(*len))))
        return failf(EINVAL, "lease file: routes: '{}' is not DEST/LEN,GW", shown(s));
    return Route{*d, uint8_t(*len), *gw};
}

} // namespace

int64_t Lease::t1_at() const
{
    return infinite() ? std::numeric_limits<int64_t>::max() : acquired_usec + int64_t(t1_s) * usec;
}
int64_t Lease::t2_at() const
{
    return infinite() ? std::numeric_limits<int64_t>::max() : acquired_usec + int64_t(t2_s) * usec;
}
int64_t Lease::expiry_at() const
{
    return infinite() ? std::numeric_limits<int64_t>::max()
                      : acquired_usec + int64_t(lease_s) * usec;
}

std::vector<Route> Lease::effective_routes() const
{
    if (!classless_routes.empty())
        return classless_routes;
    if (!routers.empty())
        return {Route{0, 0, routers.front()}};
    return {};
}

Lease lease_from_ack(const Packet &ack, int64_t now_usec)
{
    Lease l;
    l.address = ack.yiaddr;
    l.prefixlen = ack.subnet_mask ? *netmask_to_prefixlen(*ack.subnet_mask)
                                  : classful_prefix(ack.yiaddr);
    l.routers = ack.routers;
    l.dns = ack.dns;
    l.domain = ack.domain;
    l.mtu = ack.mtu;
    if (ack.classless_routes)
        l.classless_routes = *ack.classless_routes;
    l.server_id = ack.server_id.value_or(0);
    l.lease_s = ack.lease_time.value_or(infinite_lease);
    if (l.infinite()) {
        l.t1_s = l.t2_s = infinite_lease;
    } else {
        l.t1_s = ack.t1.value_or(l.lease_s / 2);
        l.t2_s = ack.t2.value_or(uint32_t(uint64_t(l.lease_s) * 7 / 8));
        if (l.t2_s >= l.lease_s)
            l.t2_s = uint32_t(uint64_t(l.lease_s) * 7 / 8);
        if (l.t1_s >= l.t2_s)
            l.t1_s = std::min(l.lease_s / 2, l.t2_s);
    }
    l.acquired_usec = now_usec;
    return l;
}

std::string format_lease(const Lease &l, int64_t off)
{
    std::string routes;
    for (const Route &r : l.classless_routes)
        routes += fmt::format("{}{}/{},{}", routes.empty() ? "" : " ", ip_to_string(r.dest),
                              r.prefixlen, ip_to_string(r.gateway));
    return fmt::format("# alopex-linkd DHCPv4 lease\n"
                       "address={}\nprefixlen={}\nrouters={}\ndns={}\ndomain={}\nmtu={}\n"
                       "routes={}\nserver_id={}\nlease={}\nt1={}\nt2={}\n"
                       "acquired_realtime_usec={}\n",
                       ip_to_string(l.address), l.prefixlen, join_ips(l.routers),
                       join_ips(l.dns), l.domain, l.mtu ? fmt::to_string(*l.mtu) : "", routes,
                       ip_to_string(l.server_id), l.lease_s, l.t1_s, l.t2_s,
                       l.acquired_usec + off);
}

Result<Lease> parse_lease(std::string_view text, int64_t off)
{
    if (text.size() > max_lease_file)
        return failf(EINVAL, "lease file: over {} bytes", max_lease_file);
    Lease l;
    unsigned seen = 0;
    auto once = [&](unsigned bit, std::string_view k) -> Result<void> {
        if (seen & bit)
            return failf(EINVAL, "lease file: {} given twice", k);
        seen |= bit;
        return {};
    };
    for (std::string_view line : split(text, '\n')) {
        if (line.front() == '#')
            continue;
        size_t eq = line.find('=');
        if (eq == std::string_view::npos)
            return failf(EINVAL, "lease file: line '{}' has no '='", shown(line));
        std::string_view k = line.substr(0, eq), v = line.substr(eq + 1);
        auto ip_into = [&](Ipv4 &dst) -> Result<void> {
            auto a = parse_ip(v);
            if (!a)
                return failf(EINVAL, "lease file: {}: {}", k, a.error().message);
            dst = *a;
            return {};
        };
        auto ips_into = [&](std::vector<Ipv4> &dst) -> Result<void> {
            for (auto part : split(v, ' ')) {
                auto a = parse_ip(part);
                if (!a)
                    return failf(EINVAL, "lease file: {}: {}", k, a.error().message);
                dst.push_back(*a);
            }
            return {};
        };
        auto key_bit = [](std::string_view key) -> unsigned {
            constexpr std::string_view keys[] = {"address", "prefixlen", "server_id", "lease", "t1", "t2",
                                                 "acquired_realtime_usec", "routers", "dns", "domain",
                                                 "mtu", "routes"};
            for (unsigned i = 0; i < std::size(keys); ++i)
                if (keys[i] == key)
                    return 1u << i;
            return 0;
        };
        unsigned bit = key_bit(k);
        if (!bit)
            return failf(EINVAL, "lease file: unknown key '{}'", shown(k));
        if (auto r = once(bit, k); !r)
            return std::unexpected(r.error());
        Result<void> r;
        if (k == "address") {
            r = ip_into(l.address);
        } else if (k == "prefixlen") {
            auto n = number<unsigned>(v, k);
            if (!n || *n > 32)
                return fail(EINVAL, "lease file: prefixlen: not 0..32");
            l.prefixlen = uint8_t(*n);
        } else if (k == "routers") {
            r = ips_into(l.routers);
        } else if (k == "dns") {
            r = ips_into(l.dns);
        } else if (k == "domain") {
            if (v.size() > 255 || !std::all_of(v.begin(), v.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                }))
                return fail(EINVAL, "lease file: domain: not a domain name");
            l.domain = v;
        } else if (k == "mtu") {
            if (!v.empty()) {
                auto n = number<uint16_t>(v, k);
                if (!n || *n < 68)
                    return fail(EINVAL, "lease file: mtu: not 68..65535");
                l.mtu = *n;
            }
        } else if (k == "routes") {
            for (auto part : split(v, ' ')) {
                auto rt = parse_route(part);
                if (!rt)
                    return std::unexpected(rt.error());
                l.classless_routes.push_back(*rt);
            }
        } else if (k == "server_id") {
            r = ip_into(l.server_id);
        } else if (k == "lease" || k == "t1" || k == "t2") {
            auto n = number<uint32_t>(v, k);
            if (!n)
                return std::unexpected(n.error());
            (k == "lease" ? l.lease_s : k == "t1" ? l.t1_s : l.t2_s) = *n;
        } else {   // acquired_realtime_usec
            auto n = number<int64_t>(v, k);
            if (!n)
                return std::unexpected(n.error());
            if (*n < 0 || *n > max_realtime_usec)
                return failf(EINVAL, "lease file: acquired_realtime_usec: not 0..{}", max_realtime_usec);
            // In the client's clock; within +-max_realtime_usec, so that every deadline
            // (acquired + up to 2^32 s) and every difference of two stays far from overflow.
            if (__builtin_sub_overflow(*n, off, &l.acquired_usec) || l.acquired_usec > max_realtime_usec ||
                l.acquired_usec < -max_realtime_usec)
                return fail(EINVAL, "lease file: acquired_realtime_usec: out of range for this clock");
        }
        if (!r)
            return std::unexpected(r.error());
    }
    if ((seen & 127) != 127)
        return fail(EINVAL, "lease file: a required key is missing");
    if (l.lease_s == 0 || (!l.infinite() && !(l.t1_s <= l.t2_s && l.t2_s <= l.lease_s)) ||
        (l.infinite() && (l.t1_s != infinite_lease || l.t2_s != infinite_lease)))
        return fail(EINVAL, "lease file: inconsistent lease/t1/t2");
    return l;
}

} // namespace alopex::dhcp
