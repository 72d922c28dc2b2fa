// SPDX-License-Identifier: GPL-2.0-or-later
// slirpd's PPP link as the client of the link (IpcpConfig::client) against slirpd's own
// server end, on a virtual clock: the client asks for an address and DNS servers and
// gets them, learns the server's address, and IP goes both ways, VJ-compressed; and the
// client's IPCP answers to a server that Naks unusable addresses or rejects what it
// asks for.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "ipcp_options.hpp"
#include "link.hpp"
#include "tcp_packet.hpp"

using namespace alopex;
using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

namespace {

struct End {
    Bytes out;
    std::vector<Bytes> ip;
    int ups = 0;
    Link link;
    End(LinkConfig c, uint32_t seed)
        : link(c, [n = seed]() mutable { return n++; },
               {[this](std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); },
                [this](std::span<const uint8_t> p) { ip.emplace_back(p.begin(), p.end()); }, [this] { ++ups; }, {}, {},
                {}, {}, {}, {}})
    {
    }
};

struct Pair {
    uint64_t now = 1'000'000;
    End server, client;
    Pair(LinkConfig s, LinkConfig c) : server(s, 0x1000), client(c, 0x9000) {}
    void exchange()
    {
        for (int i = 0; i < 100 && (!server.out.empty() || !client.out.empty()); ++i) {
            Bytes a = std::exchange(server.out, {}), b = std::exchange(client.out, {});
            client.link.line_input(a, now);
            server.link.line_input(b, now);
        }
    }
};

LinkConfig server_config()
{
    LinkConfig c;
    c.ipcp.local = net::Address::v4(0xC0A80701);   // 192.168.7.1
    c.ipcp.peer = net::Address::v4(0xC0A80702);
    c.ipcp.dns1 = net::Address::v4(0xC0A80701);
    c.ipcp.dns2 = net::Address::v4(0x09090909);
    return c;
}

LinkConfig client_config()
{
    LinkConfig c;
    c.ipcp.client = true;
    c.ipcp.local = net::Address::v4(0);
    return c;
}

} // namespace

TEST_CASE("link client: gets its address and DNS from slirpd's server end, IP both ways with VJ", "[slirp][link]")
{
    Pair p(server_config(), client_config());
    p.server.link.start(p.now);
    p.client.link.start(p.now);
    p.exchange();
    REQUIRE(p.client.link.ipcp_state() == State::Opened);
    REQUIRE(p.server.link.ipcp_state() == State::Opened);
    CHECK(p.client.ups == 1);
    const IpcpOptions &o = p.client.link.ipcp_options();
    CHECK(o.local() == net::Address::v4(0xC0A80702));
    CHECK(o.peer() == net::Address::v4(0xC0A80701));
    CHECK(o.dns1() == net::Address::v4(0xC0A80701));
    CHECK(o.dns2() == net::Address::v4(0x09090909));
    CHECK(p.server.link.ipcp_options().peer_acked());
    CHECK(p.client.link.vj_to_peer());
    CHECK(p.server.link.vj_to_peer());

    slirp_test::Seg up, down;
    up.src = 0xC0A80702, up.dst = 0xC0A80701, up.data = 200;
    down.src = 0xC0A80701, down.dst = 0xC0A80702, down.sport = 22, down.dport = 40000, down.data = 900;
    std::vector<Bytes> sent_up, sent_down;
    for (int i = 0; i < 4; ++i) {
        sent_up.push_back(slirp_test::packet(up));
        sent_down.push_back(slirp_test::packet(down));
        REQUIRE(p.client.link.send_ip(sent_up.back()));
        REQUIRE(p.server.link.send_ip(sent_down.back()));
        up.seq += 200, ++up.id, down.seq += 900, ++down.id;
        p.exchange();
    }
    CHECK(p.server.ip == sent_up);
    CHECK(p.client.ip == sent_down);
    CHECK(p.client.link.stats().vj_compressed_out == 3);
    CHECK(p.client.link.stats().vj_compressed_in == 3);
}

TEST_CASE("link client: a configured address is asked for; a server without DNS rejects ours", "[slirp][link]")
{
    LinkConfig s = server_config();
    s.ipcp.dns1 = s.ipcp.dns2 = {};
    s.ipcp.peer = net::Address::v4(0xC0A80763);
    LinkConfig c = client_config();
    c.ipcp.local = net::Address::v4(0xC0A80763);   // what the server gives: acknowledged at once
    Pair p(s, c);
    p.server.link.start(p.now);
    p.client.link.start(p.now);
    p.exchange();
    REQUIRE(p.client.link.ipcp_state() == State::Opened);
    const IpcpOptions &o = p.client.link.ipcp_options();
    CHECK(o.local() == net::Address::v4(0xC0A80763));
    CHECK(o.dns1().empty());
    CHECK(o.dns2().empty());
}

TEST_CASE("ipcp client hostile: Naks with unusable addresses, a rejected address, a server asking for 0.0.0.0",
          "[slirp][ipcp]")
{
    IpcpConfig c;
    c.client = true;
    c.local = net::Address::v4(0);
    c.peer = {};
    IpcpOptions o(c);
    Bytes req = o.request();
    // VJ, IP-Address 0.0.0.0, Primary-DNS 0.0.0.0, Secondary-DNS 0.0.0.0.
    CHECK(req == Bytes{2, 6, 0, 0x2D, 15, 1, 3, 6, 0, 0, 0, 0, 129, 6, 0, 0, 0, 0, 131, 6, 0, 0, 0, 0});
    for (Bytes bad : {Bytes{3, 6, 0, 0, 0, 0}, Bytes{3, 6, 127, 0, 0, 1}, Bytes{3, 6, 224, 0, 0, 1},
                      Bytes{3, 6, 255, 255, 255, 255}, Bytes{129, 6, 0, 0, 0, 0}, Bytes{3, 5, 10, 0, 0},
                      Bytes{3, 6, 10, 0, 0, 2, 129, 6, 0, 0, 0, 0}}) {
        INFO(bad.size());
        CHECK_FALSE(o.on_nak(bad));
        CHECK(o.request() == req);   // nothing taken from a Nak that is discarded
    }
    REQUIRE(o.on_nak(Bytes{3, 6, 10, 0, 0, 2, 129, 6, 10, 0, 0, 1}));
    CHECK(o.local() == net::Address::v4(0x0A000002));
    CHECK(o.dns1() == net::Address::v4(0x0A000001));
    CHECK(o.request() == Bytes{2, 6, 0, 0x2D, 15, 1, 3, 6, 10, 0, 0, 2, 129, 6, 10, 0, 0, 1, 131, 6, 0, 0, 0, 0});
    REQUIRE(o.on_reject(Bytes{131, 6, 0, 0, 0, 0}));   // no second DNS server
    CHECK(o.request() == Bytes{2, 6, 0, 0x2D, 15, 1, 3, 6, 10, 0, 0, 2, 129, 6, 10, 0, 0, 1});
    CHECK_FALSE(o.on_reject(Bytes{131, 6, 0, 0, 0, 0}));   // not asked any more
    CHECK_FALSE(o.on_reject(Bytes{3, 6, 10, 0, 0, 2}));    // no address: cannot go on

    // The server's own request: its address learned; 0.0.0.0 (no configured peer) and a
    // DNS request rejected.
    auto r = o.on_request(Bytes{3, 6, 0, 0, 0, 0, 129, 6, 0, 0, 0, 0}, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
    CHECK(r->options == Bytes{3, 6, 0, 0, 0, 0, 129, 6, 0, 0, 0, 0});
    r = o.on_request(Bytes{3, 6, 10, 0, 0, 1}, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureAck);
    CHECK(o.peer() == net::Address::v4(0x0A000001));
    CHECK_FALSE(o.on_request(Bytes{3, 6, 10}, false));   // malformed
}

TEST_CASE("ipcp client: a server asking for 0.0.0.0 is Naked with the configured peer address", "[slirp][ipcp]")
{
    IpcpConfig c;
    c.client = true;
    c.peer = net::Address::v4(0x0A000001);
    IpcpOptions o(c);
    auto r = o.on_request(Bytes{3, 6, 0, 0, 0, 0}, false);
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureNak);
    CHECK(r->options == Bytes{3, 6, 10, 0, 0, 1});
    r = o.on_request(Bytes{3, 6, 0, 0, 0, 0}, true);   // after max-failure: rejected
    REQUIRE(r);
    CHECK(r->code == Code::ConfigureReject);
}
