// SPDX-License-Identifier: GPL-2.0-or-later
// Active opens (Stack::connect_tcp, the client mode's connections): one stack connects
// to another's listener over a virtual wire; the SYN, data both ways and an orderly
// close; a refused port; local ports distinct and from the dynamic range; the
// connection limit.
#include <catch2/catch.hpp>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "stack.hpp"

using namespace alopex::slirp::stack;

namespace {

using Bytes = std::vector<uint8_t>;
using alopex::net::Address;
constexpr uint32_t server_address = 0x0A000001, client_address = 0x0A000002;

struct Ends {
    std::deque<Bytes> to_server, to_client;
    uint64_t now = 1'000'000;
    Stack server, client;
    std::vector<tcp::Connection *> accepted;
    explicit Ends(StackConfig client_config = {})
        : server(StackConfig{}, [this](std::span<const uint8_t> p) { to_client.emplace_back(p.begin(), p.end()); }, 1),
          client(client_config, [this](std::span<const uint8_t> p) { to_server.emplace_back(p.begin(), p.end()); }, 2)
    {
        client.set_address(client_address);
        server.listen_tcp(Address::v4(server_address), 80, [this](tcp::Connection &c, const TcpKey &) {
            accepted.push_back(&c);
            c.accept(now);
        });
    }
    void wire()
    {
        for (int i = 0; i < 1000 && (!to_server.empty() || !to_client.empty()); ++i) {
            if (!to_server.empty()) {
                Bytes p = std::move(to_server.front());
                to_server.pop_front();
                server.input(p, now);
            }
            if (!to_client.empty()) {
                Bytes p = std::move(to_client.front());
                to_client.pop_front();
                client.input(p, now);
            }
        }
    }
};

struct Heard : tcp::Events {
    bool up = false, fin = false;
    std::optional<tcp::CloseReason> closed_with;
    void established() override { up = true; }
    void peer_closed() override { fin = true; }
    void closed(tcp::CloseReason r) override { closed_with = r; }
};

std::string text(std::span<const uint8_t> b) { return {b.begin(), b.end()}; }
Bytes bytes(std::string_view s) { return {s.begin(), s.end()}; }

} // namespace

TEST_CASE("stack connect: an active open to another stack's listener, data both ways, orderly close",
          "[slirp][stack]")
{
    Ends e;
    Heard h;
    tcp::Connection *c = e.client.connect_tcp(Address::v4(server_address), 80, &h, e.now);
    REQUIRE(c);
    CHECK(c->local_port() >= 49152);
    CHECK(c->remote_port() == 80);
    CHECK(e.client.stats().tcp_opened == 1);
    e.wire();
    REQUIRE(h.up);
    REQUIRE(e.accepted.size() == 1);
    tcp::Connection *s = e.accepted[0];
    c->write(bytes("GET / HTTP/1.0\r\n\r\n"), e.now);
    e.wire();
    CHECK(text(s->received()) == "GET / HTTP/1.0\r\n\r\n");
    s->consume(s->received().size(), e.now);
    s->write(bytes("HTTP/1.0 200 OK\r\n\r\nhello"), e.now);
    s->shutdown(e.now);
    e.wire();
    CHECK(text(c->received()) == "HTTP/1.0 200 OK\r\n\r\nhello");
    c->consume(c->received().size(), e.now);
    CHECK(h.fin);
    c->shutdown(e.now);
    e.wire();
    REQUIRE(h.closed_with);
    CHECK(*h.closed_with == tcp::CloseReason::Done);
}

TEST_CASE("stack connect: a port nothing listens on resets the open; local ports distinct", "[slirp][stack]")
{
    Ends e;
    Heard h;
    tcp::Connection *c = e.client.connect_tcp(Address::v4(server_address), 81, &h, e.now);
    REQUIRE(c);
    e.wire();
    REQUIRE(h.closed_with);
    CHECK(*h.closed_with != tcp::CloseReason::Done);
    CHECK_FALSE(h.up);

    std::set<uint16_t> ports;
    std::vector<Heard> many(50);
    for (auto &m : many) {
        tcp::Connection *x = e.client.connect_tcp(Address::v4(server_address), 80, &m, e.now);
        REQUIRE(x);
        CHECK(x->local_port() >= 49152);
        ports.insert(x->local_port());
    }
    CHECK(ports.size() == 50);
    e.wire();
    CHECK(e.accepted.size() == 50);
}

TEST_CASE("stack connect: at the connection limit an active open is refused", "[slirp][stack]")
{
    StackConfig cfg;
    cfg.limits.max_connections = 2;
    Ends e(cfg);
    Heard a, b, c;
    CHECK(e.client.connect_tcp(Address::v4(server_address), 80, &a, e.now));
    CHECK(e.client.connect_tcp(Address::v4(server_address), 80, &b, e.now));
    CHECK_FALSE(e.client.connect_tcp(Address::v4(server_address), 80, &c, e.now));
    CHECK(e.client.stats().tcp_limited == 1);
}
