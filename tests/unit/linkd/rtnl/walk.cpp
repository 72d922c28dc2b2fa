// SPDX-License-Identifier: GPL-2.0-or-later
#include "walk.hpp"

#include <arpa/inet.h>

#include <cstring>

#include <catch2/catch.hpp>

namespace alopex::linkd::rtnl::test {

std::vector<std::byte> one(const Request &r, uint32_t seq)
{
    std::vector<std::byte> out;
    auto b = build(r, seq, out);
    INFO((b ? std::string() : b.error().message));
    REQUIRE(b);
    REQUIRE(messages(out).size() == 1);
    return out;
}

std::vector<const nlmsghdr *> messages(std::span<const std::byte> buf)
{
    std::vector<const nlmsghdr *> out;
    size_t off = 0;
    while (off < buf.size()) {
        REQUIRE(buf.size() - off >= NLMSG_HDRLEN);
        REQUIRE(reinterpret_cast<uintptr_t>(buf.data() + off) % alignof(nlmsghdr) == 0);
        const auto *h = reinterpret_cast<const nlmsghdr *>(buf.data() + off);
        REQUIRE(h->nlmsg_len >= NLMSG_HDRLEN);
        REQUIRE(h->nlmsg_len <= buf.size() - off);
        REQUIRE(h->nlmsg_len % NLMSG_ALIGNTO == 0);
        out.push_back(h);
        off += h->nlmsg_len;
    }
    return out;
}

Attrs attrs(const std::byte *p, const std::byte *end)
{
    Attrs out;
    while (p < end) {
        REQUIRE(static_cast<size_t>(end - p) >= sizeof(nlattr));
        nlattr a;
        std::memcpy(&a, p, sizeof a);
        REQUIRE(a.nla_len >= sizeof(nlattr));
        REQUIRE(a.nla_len <= static_cast<size_t>(end - p));
        uint16_t type = a.nla_type & NLA_TYPE_MASK;
        INFO("attribute type " << type);
        REQUIRE(out.count(type) == 0);
        out[type] = {p + sizeof(nlattr), a.nla_len - sizeof(nlattr)};
        p += NLA_ALIGN(a.nla_len);
    }
    REQUIRE(p == end);
    return out;
}

Attrs attrs_after(const nlmsghdr *h, size_t header)
{
    const auto *base = reinterpret_cast<const std::byte *>(h);
    REQUIRE(h->nlmsg_len >= NLMSG_HDRLEN + NLMSG_ALIGN(header));
    return attrs(base + NLMSG_HDRLEN + NLMSG_ALIGN(header), base + h->nlmsg_len);
}

Attrs nested(std::span<const std::byte> payload, size_t header)
{
    REQUIRE(payload.size() >= NLA_ALIGN(header));
    return attrs(payload.data() + NLA_ALIGN(header), payload.data() + payload.size());
}

uint32_t u32(std::span<const std::byte> a)
{
    REQUIRE(a.size() == 4);
    uint32_t v;
    std::memcpy(&v, a.data(), 4);
    return v;
}

uint16_t u16(std::span<const std::byte> a)
{
    REQUIRE(a.size() == 2);
    uint16_t v;
    std::memcpy(&v, a.data(), 2);
    return v;
}

uint8_t u8(std::span<const std::byte> a)
{
    REQUIRE(a.size() == 1);
    return static_cast<uint8_t>(a[0]);
}

std::string str(std::span<const std::byte> a)
{
    std::string s(reinterpret_cast<const char *>(a.data()), a.size());
    auto z = s.find('\0');
    REQUIRE(z != std::string::npos);
    return s.substr(0, z);
}

std::string ip(int family, std::span<const std::byte> a)
{
    REQUIRE(a.size() == (family == AF_INET ? 4u : 16u));
    char buf[INET6_ADDRSTRLEN];
    REQUIRE(inet_ntop(family, a.data(), buf, sizeof buf));
    return buf;
}

Error refused(const Request &r)
{
    std::vector<std::byte> out(3, std::byte{0x5a});
    auto b = build(r, 1, out);
    REQUIRE_FALSE(b);
    CHECK(b.error().code == EINVAL);
    CHECK(out == std::vector<std::byte>(3, std::byte{0x5a}));
    return b.error();
}

} // namespace alopex::linkd::rtnl::test
