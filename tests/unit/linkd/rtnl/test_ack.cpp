// SPDX-License-Identifier: GPL-2.0-or-later
// rtnl::parse_acks over hand-built datagrams: success and error ACKs, the kernel's
// extended-ACK text (capped and echoing the request), several ACKs in one datagram,
// hostile lengths and attributes, and datagrams another process sent to our port.
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "rtnl.hpp"

using namespace alopex::linkd::rtnl;

namespace {

constexpr uint32_t port = 0x1234;
constexpr uint32_t base = 1000;

using Bytes = std::vector<unsigned char>;

void put(Bytes &b, const void *p, size_t n)
{
    auto c = static_cast<const unsigned char *>(p);
    b.insert(b.end(), c, c + n);
}

void pad(Bytes &b)
{
    b.resize(NLMSG_ALIGN(b.size()), 0);
}

// One NLMSG_ERROR for sequence `seq`: error, the echoed request header (and, without
// NLM_F_CAPPED, `echo_payload` bytes of its body), then an NLMSGERR_ATTR_MSG if `text`.
Bytes ack(uint32_t seq, int error, const std::string &text = {}, bool capped = true, size_t echo_payload = 0,
          uint32_t pid = port)
{
    Bytes body;
    put(body, &error, sizeof error);
    nlmsghdr req{};
    req.nlmsg_len = static_cast<uint32_t>(sizeof req + (capped ? 0 : echo_payload));
    req.nlmsg_type = 20;   // RTM_NEWADDR
    req.nlmsg_seq = seq;
    req.nlmsg_pid = pid;
    put(body, &req, sizeof req);
    if (!capped) {
        body.resize(body.size() + echo_payload, 0xab);
        pad(body);
    }
    uint16_t flags = capped ? NLM_F_CAPPED : 0;
    if (!text.empty()) {
        flags |= NLM_F_ACK_TLVS;
        nlattr a{static_cast<uint16_t>(sizeof(nlattr) + text.size() + 1), NLMSGERR_ATTR_MSG};
        put(body, &a, sizeof a);
        put(body, text.c_str(), text.size() + 1);
        pad(body);
    }
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + body.size());
    h.nlmsg_type = NLMSG_ERROR;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = pid;
    Bytes out;
    put(out, &h, sizeof h);
    out.insert(out.end(), body.begin(), body.end());
    pad(out);
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const auto &p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

std::vector<Ack> parse(const Bytes &b, uint32_t sender = 0, size_t count = 8)
{
    return parse_acks(b, sender, port, base, count);
}

} // namespace

TEST_CASE("rtnl acks: success and errors with the kernel's text")
{
    auto ok = parse(ack(base + 2, 0));
    REQUIRE(ok.size() == 1);
    CHECK(ok[0].index == 2);
    CHECK(ok[0].error == 0);

    auto plain = parse(ack(base, -EEXIST));
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].error == EEXIST);
    CHECK(plain[0].message.empty());

    auto capped = parse(ack(base + 1, -EINVAL, "Invalid prefix for given prefix length.\n"));
    REQUIRE(capped.size() == 1);
    CHECK(capped[0].error == EINVAL);
    CHECK(capped[0].message == "Invalid prefix for given prefix length.");

    auto echoed = parse(ack(base + 3, -ERANGE, "MTU too big", false, 40));
    REQUIRE(echoed.size() == 1);
    CHECK(echoed[0].error == ERANGE);
    CHECK(echoed[0].message == "MTU too big");

    auto control = parse(ack(base, -EINVAL, std::string("a\x01\x7f" "b", 4)));
    REQUIRE(control.size() == 1);
    CHECK(control[0].message == "a??b");
}

TEST_CASE("rtnl acks: several in one datagram, foreign ones skipped")
{
    auto d = cat({ack(base, 0), ack(base + 9, 0) /* outside the chunk */, ack(base + 1, -ENODEV),
                  ack(base + 2, 0, {}, true, 0, port + 1) /* another port */, ack(base - 1, 0)});
    auto acks = parse(d);
    REQUIRE(acks.size() == 2);
    CHECK(acks[0].index == 0);
    CHECK(acks[1].index == 1);
    CHECK(acks[1].error == ENODEV);
}

TEST_CASE("rtnl acks: a datagram another process sent to our port is ignored whole")
{
    // Any process may send to our port id; a forged "success" must not count.
    auto d = cat({ack(base, 0), ack(base + 1, 0)});
    CHECK(parse(d, 0).size() == 2);
    for (uint32_t sender : {1u, 4242u, 0x80000000u, 0xffffffffu})
        CHECK(parse(d, sender).empty());
}

TEST_CASE("rtnl acks: hostile lengths and attributes end the walk, never read past the end")
{
    Bytes good = ack(base, -EINVAL, "bad");
    // Truncated anywhere: whatever is left is either skipped or ends the walk.
    for (size_t n = 0; n < good.size(); ++n) {
        Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
        auto acks = parse(cut);
        CHECK(acks.empty());
    }
    // nlmsg_len past the datagram, below the header, and a huge one.
    for (uint32_t len : {uint32_t(good.size() + 4), 8u, 0u, 0xffffffffu, 0x80000000u}) {
        Bytes b = good;
        std::memcpy(b.data(), &len, sizeof len);
        CHECK(parse(b).empty());
    }
    // A NLMSG_ERROR too short for the error code.
    nlmsghdr h{NLMSG_HDRLEN, NLMSG_ERROR, 0, base + 4, port};
    Bytes shortmsg;
    put(shortmsg, &h, sizeof h);
    auto t = parse(shortmsg);
    REQUIRE(t.size() == 1);
    CHECK(t[0].error == EBADMSG);
    // An attribute longer than the message, or shorter than its header: no text.
    for (uint16_t nla_len : {uint16_t(0), uint16_t(2), uint16_t(4000)}) {
        Bytes b = good;
        size_t at = NLMSG_HDRLEN + sizeof(nlmsgerr);
        std::memcpy(b.data() + at, &nla_len, sizeof nla_len);
        auto acks = parse(b);
        REQUIRE(acks.size() == 1);
        CHECK(acks[0].message.empty());
    }
    // An echoed request claiming to be longer than the ACK: no text.
    Bytes echo = ack(base, -EINVAL, "x", false, 8);
    uint32_t huge = 5000;
    std::memcpy(echo.data() + NLMSG_HDRLEN + sizeof(int), &huge, sizeof huge);
    auto e = parse(echo);
    REQUIRE(e.size() == 1);
    CHECK(e[0].message.empty());
    // INT_MIN as the error code is not negated (EIO).
    Bytes m = ack(base, 0);
    int min = INT32_MIN;
    std::memcpy(m.data() + NLMSG_HDRLEN, &min, sizeof min);
    auto mm = parse(m);
    REQUIRE(mm.size() == 1);
    CHECK(mm[0].error == EIO);
}
