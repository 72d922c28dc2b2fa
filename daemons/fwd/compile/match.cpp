// SPDX-License-Identifier: GPL-2.0-or-later
// Building blocks: names, byte encodings and the expressions of single matches, each
// exactly as `nft --debug=netlink` shows nft sending them for the equivalent text.
#include <netinet/in.h>
#include <algorithm>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "compile/internal.hpp"

namespace alopex::fwd::compile::detail {

const char *hook_name(Hook h)
{
    switch (h) {
    case Hook::input: return "input";
    case Hook::forward: return "forward";
    case Hook::output: return "output";
    }
    return "input";
}

std::string zone_chain(const std::string &zone, Hook h) { return zone + "_" + hook_name(h); }
std::string dnat_chain(const std::string &zone) { return zone + "_dnat"; }
std::string addr_set(const std::string &zone, uint8_t family)
{
    return zone + (family == AF_INET6 ? "_addr6" : "_addr4");
}
std::string named_set(const std::string &name, uint8_t family)
{
    return "set_" + name + (family == AF_INET6 ? "6" : "4");
}
std::string rt_set(const std::string &zone, uint8_t family, Verdict v)
{
    const char *vs = v == Verdict::accept ? "accept" : v == Verdict::drop ? "drop" : "reject";
    return fmt::format("{}_rt{}_{}", zone, family == AF_INET6 ? 6 : 4, vs);
}

bool valid_name(std::string_view s)
{
    if (s.empty() || s.size() > 20)
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    return true;
}

Bytes be16(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v & 0xff)}; }

Bytes host32(uint32_t v)
{
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

Bytes ifname_key(const std::string &ifname)
{
    Bytes b(16, 0);
    std::memcpy(b.data(), ifname.data(), std::min<size_t>(ifname.size(), 15));
    return b;
}

size_t addr_len(uint8_t family) { return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0; }

uint8_t proto_number(Proto p)
{
    switch (p) {
    case Proto::tcp: return IPPROTO_TCP;
    case Proto::udp: return IPPROTO_UDP;
    case Proto::icmp: return IPPROTO_ICMP;
    case Proto::icmpv6: return IPPROTO_ICMPV6;
    case Proto::any: return 0;
    }
    return 0;
}

Exprs match_nfproto(uint8_t family)
{
    return {nft::Meta{NFT_META_NFPROTO, 1},
            nft::Cmp{1, NFT_CMP_EQ, {uint8_t(family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4)}}};
}

Exprs match_l4proto(uint8_t proto)
{
    return {nft::Meta{NFT_META_L4PROTO, 1}, nft::Cmp{1, NFT_CMP_EQ, {proto}}};
}

Exprs match_ct_bits(uint32_t key, uint32_t mask)
{
    return {nft::Ct{key, 1}, nft::Bitwise{1, 1, 4, host32(mask), host32(0)},
            nft::Cmp{1, NFT_CMP_NEQ, host32(0)}};
}

Exprs match_meta_ifindex(uint32_t meta_key, uint32_t ifindex)
{
    return {nft::Meta{meta_key, 1}, nft::Cmp{1, NFT_CMP_EQ, host32(ifindex)}};
}

namespace {
uint32_t addr_offset(uint8_t family, bool source)
{
    if (family == AF_INET6)
        return source ? 8 : 24;
    return source ? 12 : 16;
}
} // namespace

Exprs match_cidr(const net::Prefix &c, bool source)
{
    const uint8_t fam = uint8_t(c.family());
    const uint32_t len = uint32_t(addr_len(fam));
    const uint32_t off = addr_offset(fam, source);
    const uint8_t *bytes = c.address().data();
    Exprs e;
    if (c.length() % 8 == 0 && c.length() != 0) {
        const uint32_t n = std::min<uint32_t>(c.length() / 8, len);
        e.push_back(nft::Payload{NFT_PAYLOAD_NETWORK_HEADER, off, n, 1});
        e.push_back(nft::Cmp{1, NFT_CMP_EQ, Bytes(bytes, bytes + n)});
        return e;
    }
    Bytes mask(len, 0);
    for (uint32_t i = 0; i < len; ++i) {
        const int bits = int(c.length()) - int(i * 8);
        mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : uint8_t(0xff << (8 - bits));
    }
    Bytes addr(bytes, bytes + len);
    for (uint32_t i = 0; i < len; ++i)
        addr[i] &= mask[i];
    e.push_back(nft::Payload{NFT_PAYLOAD_NETWORK_HEADER, off, len, 1});
    e.push_back(nft::Bitwise{1, 1, len, std::move(mask), Bytes(len, 0)});
    e.push_back(nft::Cmp{1, NFT_CMP_EQ, std::move(addr)});
    return e;
}

Exprs match_addr_lookup(uint8_t family, bool source, const std::string &set)
{
    return {nft::Payload{NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, source),
                         uint32_t(addr_len(family)), 1},
            nft::Lookup{1, set, std::nullopt, false}};
}

Exprs match_port(const PortRange &p, uint32_t offset)
{
    Exprs e{nft::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2, 1}};
    if (p.first == p.last) {
        e.push_back(nft::Cmp{1, NFT_CMP_EQ, be16(p.first)});
    } else {
        e.push_back(nft::Cmp{1, NFT_CMP_GTE, be16(p.first)});
        e.push_back(nft::Cmp{1, NFT_CMP_LTE, be16(p.last)});
    }
    return e;
}

Expr verdict(int32_t code, std::string chain) { return nft::Verdict{code, std::move(chain)}; }

Expr reject(RejectWith w)
{
    switch (w) {
    case RejectWith::tcp_reset: return nft::Reject{NFT_REJECT_TCP_RST, 0};
    case RejectWith::admin_prohibited:
        return nft::Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED};
    case RejectWith::host_unreachable:
        return nft::Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_HOST_UNREACH};
    case RejectWith::no_route:
        return nft::Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_NO_ROUTE};
    case RejectWith::port_unreachable: break;
    }
    return nft::Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH};
}

Expr limit(const RateLimit &r) { return nft::Limit{r.rate, r.unit_s, r.burst, false}; }

} // namespace alopex::fwd::compile::detail
