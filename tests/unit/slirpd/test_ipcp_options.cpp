// SPDX-License-Identifier: GPL-2.0-or-later
// IPCP as pppd negotiates it with `noipdefault usepeerdns` and its default VJ request:
// VJ rejected first, then the address and DNS servers Naked in, then acknowledged.
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

const Bytes vj = {o::ip_compression, 6, 0x00, 0x2D, 0x0F, 0x01};   // VJ, 16 slots, slot-id compression

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
    // 1. VJ, address 0, both DNS 0: VJ is rejected, alone.
    auto first = cat({vj, addr(o::ip_address, 0), addr(o::primary_dns, 0), addr(o::secondary_dns, 0)});
    auto r = ipcp.on_request(first, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == cat({vj, addr(o::secondary_dns, 0)}));   // no second server offered
    // 2. Without them: the address and the DNS server are Naked in.
    auto second = cat({addr(o::ip_address, 0), addr(o::primary_dns, 0)});
    r = ipcp.on_request(second, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureNak);
    CHECK(r->options == cat({addr(o::ip_address, 0x0A000002), addr(o::primary_dns, 0x0A000001)}));
    CHECK_FALSE(ipcp.peer_acked());
    // 3. As Naked: acknowledged.
    r = ipcp.on_request(r->options, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK(ipcp.peer_acked());
}

TEST_CASE("ipcp: our request, and what the peer may answer to it", "[slirp][ipcp]")
{
    IpcpOptions ipcp(config());
    auto ours = ipcp.request();
    CHECK(ours == addr(o::ip_address, 0x0A000001));
    CHECK(ipcp.on_ack(ours));
    CHECK_FALSE(ipcp.on_ack(addr(o::ip_address, 0x0A000009)));
    CHECK(ipcp.on_nak(addr(o::ip_address, 0x0A000009)));
    CHECK(ipcp.request() == ours);   // the configured address stays
    CHECK_FALSE(ipcp.on_reject(addr(o::primary_dns, 0)));   // not asked for
    CHECK(ipcp.on_reject(ours));
    CHECK(ipcp.request().empty());
    ipcp.reset();
    CHECK(ipcp.request() == ours);
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
