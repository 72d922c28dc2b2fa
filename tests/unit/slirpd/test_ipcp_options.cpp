// SPDX-License-Identifier: GPL-2.0-or-later
// IPCP as pppd negotiates it with `noipdefault usepeerdns` and its default VJ request:
// the second DNS server rejected first, then the address and DNS server Naked in, then
// acknowledged with VJ; our request with VJ, and what the peer may answer to it.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ipcp_options.hpp"

using namespace alopex;
using namespace alopex::slirp::ppp;
namespace o = ipcp_option;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes addr(uint8_t type, uint32_t a)
{
    Bytes b;
    put_option_u32(b, type, a);
    return b;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const auto &p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

const Bytes vj_opt = {o::ip_compression, 6, 0x00, 0x2D, 0x0F, 0x01};   // VJ, 16 slots, slot-id compression

IpcpConfig config()
{
    IpcpConfig c;
    c.dns1 = net::Address::v4(0x0A000001);
    return c;
}

} // namespace

TEST_CASE("ipcp: pppd's requests, from VJ and zeros to an Ack", "[slirp][ipcp]")
{
    IpcpOptions ipcp(config());
    // 1. VJ, address 0, both DNS 0: only the second DNS server is rejected (none offered).
    auto first = cat({vj_opt, addr(o::ip_address, 0), addr(o::primary_dns, 0), addr(o::secondary_dns, 0)});
    auto r = ipcp.on_request(first, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == addr(o::secondary_dns, 0));
    // 2. Without it: the address and the DNS server are Naked in; VJ is fine.
    auto second = cat({vj_opt, addr(o::ip_address, 0), addr(o::primary_dns, 0)});
    r = ipcp.on_request(second, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureNak);
    CHECK(r->options == cat({addr(o::ip_address, 0x0A000002), addr(o::primary_dns, 0x0A000001)}));
    CHECK_FALSE(ipcp.peer_acked());
    CHECK_FALSE(ipcp.vj_to_peer());
    // 3. As Naked: acknowledged, and VJ goes to the peer with its 16 slots.
    r = ipcp.on_request(cat({vj_opt, addr(o::ip_address, 0x0A000002), addr(o::primary_dns, 0x0A000001)}), false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK(ipcp.peer_acked());
    REQUIRE(ipcp.vj_to_peer());
    CHECK(ipcp.vj_to_peer()->max_slot == 15);
    CHECK(ipcp.vj_to_peer()->slot_id_compressed);
    // pppd with novj: no VJ toward it.
    r = ipcp.on_request(cat({addr(o::ip_address, 0x0A000002)}), false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK_FALSE(ipcp.vj_to_peer());
}

TEST_CASE("ipcp: our request, and what the peer may answer to it", "[slirp][ipcp]")
{
    IpcpOptions ipcp(config());
    auto ours = ipcp.request();
    CHECK(ours == cat({vj_opt, addr(o::ip_address, 0x0A000001)}));
    CHECK(ipcp.on_ack(ours));
    CHECK(ipcp.vj_from_peer());
    CHECK_FALSE(ipcp.on_ack(addr(o::ip_address, 0x0A000009)));
    CHECK(ipcp.on_nak(addr(o::ip_address, 0x0A000009)));
    CHECK(ipcp.request() == ours);   // the configured address stays
    CHECK_FALSE(ipcp.on_reject(addr(o::primary_dns, 0)));   // not asked for
    CHECK(ipcp.on_reject(ours));
    CHECK(ipcp.request().empty());
    CHECK_FALSE(ipcp.vj_from_peer());
    ipcp.reset();
    CHECK(ipcp.request() == ours);
    // A Nak with fewer slots and no slot-id compression is followed; another protocol
    // ends our VJ request.
    CHECK(ipcp.on_nak(Bytes{o::ip_compression, 6, 0x00, 0x2D, 0x03, 0x00}));
    CHECK(ipcp.request() == cat({Bytes{o::ip_compression, 6, 0x00, 0x2D, 0x03, 0x00}, addr(o::ip_address, 0x0A000001)}));
    REQUIRE(ipcp.vj_from_peer());
    CHECK(ipcp.vj_from_peer()->max_slot == 3);
    CHECK_FALSE(ipcp.vj_from_peer()->slot_id_compressed);
    CHECK(ipcp.on_nak(Bytes{o::ip_compression, 4, 0x00, 0x61}));   // IPHC, RFC 2509
    CHECK(ipcp.request() == addr(o::ip_address, 0x0A000001));
}

TEST_CASE("ipcp: VJ configured off, and compression requests that are not VJ", "[slirp][ipcp]")
{
    IpcpConfig off = config();
    off.vj = false;
    IpcpOptions ipcp(off);
    CHECK(ipcp.request() == addr(o::ip_address, 0x0A000001));
    auto r = ipcp.on_request(cat({vj_opt, addr(o::ip_address, 0x0A000002)}), false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == vj_opt);
    IpcpOptions on(config());
    for (const Bytes &bad : {Bytes{o::ip_compression, 4, 0x00, 0x61}, Bytes{o::ip_compression, 6, 0x00, 0x2D, 0x0F, 0x02},
                             Bytes{o::ip_compression, 5, 0x00, 0x2D, 0x0F}}) {
        r = on.on_request(cat({bad, addr(o::ip_address, 0x0A000002)}), false);
        REQUIRE(r);
        CHECK(r->code == Code::ConfigureReject);
        CHECK(r->options == bad);
    }
}

TEST_CASE("ipcp: other addresses, NBNS, wrong lengths; max-failure", "[slirp][ipcp]")
{
    IpcpOptions ipcp(config());
    auto r = ipcp.on_request(addr(o::ip_address, 0xC0A80105), false);   // wants its own address
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureNak);
    CHECK(r->options == addr(o::ip_address, 0x0A000002));
    r = ipcp.on_request(cat({addr(o::primary_nbns, 0), Bytes{o::ip_address, 4, 10, 0}}), false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == cat({addr(o::primary_nbns, 0), Bytes{o::ip_address, 4, 10, 0}}));
    r = ipcp.on_request(addr(o::ip_address, 0), true);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK_FALSE(ipcp.on_request(Bytes{o::ip_address, 0}, false));
    IpcpOptions no_dns(IpcpConfig{});
    r = no_dns.on_request(addr(o::primary_dns, 0), false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
}
