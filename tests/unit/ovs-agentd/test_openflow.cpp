// SPDX-License-Identifier: GPL-2.0-or-later
// The OpenFlow 1.3 messages of the base flows: what the encoders write, field by field
// (OpenFlow 1.3.5 §7), and the framer and decoders on what Debian's ovs-vswitchd sent
// (ovsdb-samples/vswitchd-openflow-session.bin: its HELLO, an ERROR, a BARRIER_REPLY)
// and on hostile streams.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <vector>

#include "base_flows.hpp"
#include "openflow.hpp"

using namespace alopex::ovs;
using namespace alopex::ovs::openflow;

namespace {

std::vector<uint8_t> u8(const std::vector<std::byte> &b)
{
    std::vector<uint8_t> out;
    for (auto x : b)
        out.push_back(uint8_t(x));
    return out;
}

uint16_t be16(const std::vector<uint8_t> &b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }
uint32_t be32(const std::vector<uint8_t> &b, size_t at) { return uint32_t(be16(b, at)) << 16 | be16(b, at + 2); }

std::vector<std::byte> sample()
{
    std::ifstream f(std::string(ALOPEX_OVSDB_SAMPLES) + "/vswitchd-openflow-session.bin", std::ios::binary);
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    REQUIRE(!c.empty());
    std::vector<std::byte> out;
    for (char x : c)
        out.push_back(std::byte(uint8_t(x)));
    return out;
}

} // namespace

TEST_CASE("openflow: HELLO offers 1.3 in a version bitmap; a FLOW_MOD to LOCAL for a network", "[ovs][openflow]")
{
    auto h = u8(hello_message(7));
    REQUIRE(h.size() == 16);
    CHECK((h[0] == 4 && h[1] == 0 && be16(h, 2) == 16 && be32(h, 4) == 7));
    CHECK((be16(h, 8) == 1 && be16(h, 10) == 8 && be32(h, 12) == (1u << 4)));

    Flow f{local_cookie, 100, *alopex::net::Prefix::parse_network("10.55.0.0/24", "net"), port_local};
    auto m = u8(flow_add_message(9, f));
    CHECK(m.size() % 8 == 0);
    CHECK((m[1] == flow_mod && be16(m, 2) == m.size()));
    CHECK((be32(m, 8) == 0x616c6f70 && be32(m, 12) == 0x65780001));   // cookie
    CHECK((m[24] == 0 && m[25] == 0 && be16(m, 30) == 100));           // table 0, ADD, priority
    // The match at 48: OXM, length 4 + eth_type (6) + ipv4_dst with mask (12) = 22, padded to 24.
    CHECK((be16(m, 48) == 1 && be16(m, 50) == 22));
    CHECK((be16(m, 52) == 0x8000 && m[54] == (5 << 1) && m[55] == 2 && be16(m, 56) == 0x0800));
    CHECK((m[58] == 0x80 && m[59] == 0 && m[60] == (12 << 1 | 1) && m[61] == 8));
    CHECK((m[62] == 10 && m[63] == 55 && m[64] == 0 && m[65] == 0 && be32(m, 66) == 0xffffff00));
    // APPLY_ACTIONS at 72 with one OUTPUT to LOCAL.
    CHECK((be16(m, 72) == 4 && be16(m, 74) == 24 && be16(m, 80) == 0 && be16(m, 82) == 16));
    CHECK(be32(m, 84) == port_local);
    CHECK(m.size() == 96);

    auto v6 = u8(flow_add_message(1, {local_cookie, 100, *alopex::net::Prefix::parse_network("fd55::/64", "n"), port_local}));
    CHECK((be16(v6, 50) == 4 + 6 + 36 && be16(v6, 56) == 0x86dd && v6[60] == (27 << 1 | 1) && v6[61] == 32));
    auto all = u8(flow_add_message(1, {normal_cookie, 0, std::nullopt, port_normal}));
    CHECK((be16(all, 48) == 1 && be16(all, 50) == 4 && be32(all, 68) == port_normal));
    auto del = u8(flow_delete_cookie_message(3, local_cookie));
    CHECK((del[24] == 0xff && del[25] == 3 && be32(del, 16) == 0xffffffff && be32(del, 36) == 0xffffffff));
    CHECK(del.size() == 56);   // no instructions
}

TEST_CASE("openflow: what ovs-vswitchd sent, framed in any pieces, and hostile streams", "[ovs][openflow]")
{
    auto bytes = sample();
    for (size_t cut = 0; cut <= bytes.size(); cut += 7) {
        Framer f;
        REQUIRE(f.feed(std::span(bytes).first(cut)));
        REQUIRE(f.feed(std::span(bytes).subspan(cut)));
        std::vector<Message> got;
        while (auto m = f.next())
            got.push_back(std::move(*m));
        REQUIRE(got.size() == 3);
        CHECK(accept_hello(got[0]));   // version 6 without a bitmap: 1.3 is below it
        CHECK(got[1].header.type == error);
        auto e = parse_error(got[1]);
        REQUIRE(e);
        CHECK(e->text() == "OFPET_BAD_INSTRUCTION code 0");
        CHECK((got[2].header.type == barrier_reply && got[2].header.xid == 3));
        CHECK(f.buffered() == 0);
    }
    Framer bad;
    std::vector<std::byte> zero = {std::byte{4}, std::byte{0}, std::byte{0}, std::byte{4},
                                   std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1}};
    REQUIRE(bad.feed(zero));
    auto m = bad.next();
    REQUIRE(m);
    CHECK(m->header.length < header_size);   // the caller closes
    CHECK_FALSE(bad.feed(zero));
    Message hello10{{1, 0, 8, 1}, {}};
    CHECK(accept_hello(hello10).error().code == EPROTONOSUPPORT);
    Message bitmap{{6, 0, 16, 1}, {std::byte{0}, std::byte{1}, std::byte{0}, std::byte{8}, std::byte{0}, std::byte{0},
                                   std::byte{0}, std::byte{2}}};
    CHECK(accept_hello(bitmap).error().code == EPROTONOSUPPORT);   // 1.0 only
    Message truncated{{4, 0, 12, 1}, {std::byte{0}, std::byte{1}, std::byte{0}, std::byte{200}}};
    CHECK_FALSE(accept_hello(truncated));
    Message not_hello{{4, 2, 8, 1}, {}};
    CHECK_FALSE(accept_hello(not_hello));
    CHECK_FALSE(parse_error(Message{{4, 1, 10, 1}, {std::byte{0}, std::byte{1}}}));
}

TEST_CASE("base flows: NORMAL and each [flows] local network to LOCAL; none when off", "[ovs][openflow]")
{
    Settings s;
    CHECK(base_flows(s).empty());
    s.flows = true;
    s.local = {*alopex::net::Prefix::parse_network("10.55.0.0/24", "n")};
    auto f = base_flows(s);
    REQUIRE(f.size() == 2);
    CHECK(f[0] == Flow{normal_cookie, 0, std::nullopt, port_normal});
    CHECK((f[1].cookie == local_cookie && f[1].priority == local_priority && f[1].out_port == port_local));
}
