// SPDX-License-Identifier: GPL-2.0-or-later
// DHCP packets: builders (RFC 2131 table 5) round-trip through the parser; options.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace dhcp_test;

TEST_CASE("DISCOVER carries client id, parameter request list, hostname")
{
    Identity id{mac, {}, "host1"};
    auto b = build_discover(id, 0x12345678, 3, offered);
    REQUIRE(b.size() >= 300);
    auto p = parse_packet(b);
    REQUIRE(p);
    CHECK(p->op == 1);
    CHECK(p->type == MessageType::discover);
    CHECK(p->xid == 0x12345678);
    CHECK(p->secs == 3);
    CHECK(p->chaddr == mac);
    CHECK(p->ciaddr == 0);
    CHECK(p->requested_ip == offered);
    CHECK(p->hostname == "host1");
    CHECK(p->client_id == std::vector<uint8_t>{1, 2, 0, 0, 0, 0, 0x11});
    auto prl = default_param_request();
    CHECK(p->param_request == std::vector<uint8_t>(prl.begin(), prl.end()));
    for (uint8_t code : {1, 3, 6, 15, 26, 51, 54, 58, 59, 121})
        CHECK(std::find(prl.begin(), prl.end(), code) != prl.end());
}

TEST_CASE("REQUEST variants follow RFC 2131 table 5")
{
    Identity id{mac, {0xff, 1, 2, 3}, ""};
    auto sel = parse_packet(build_request(id, 1, 0, RequestKind::selecting, offered, server));
    REQUIRE(sel);
    CHECK(sel->type == MessageType::request);
    CHECK(sel->ciaddr == 0);
    CHECK(sel->requested_ip == offered);
    CHECK(sel->server_id == server);
    CHECK(sel->client_id == std::vector<uint8_t>{0xff, 1, 2, 3});
    CHECK(sel->hostname.empty());

    auto reboot = parse_packet(build_request(id, 1, 0, RequestKind::init_reboot, offered));
    REQUIRE(reboot);
    CHECK(reboot->ciaddr == 0);
    CHECK(reboot->requested_ip == offered);
    CHECK(!reboot->server_id);

    for (auto k : {RequestKind::renewing, RequestKind::rebinding}) {
        auto r = parse_packet(build_request(id, 1, 0, k, offered, server));
        REQUIRE(r);
        CHECK(r->ciaddr == offered);
        CHECK(!r->requested_ip);
        CHECK(!r->server_id);
    }
}

TEST_CASE("RELEASE names the address in ciaddr and the server")
{
    auto r = parse_packet(build_release({mac, {}, ""}, 9, offered, server));
    REQUIRE(r);
    CHECK(r->type == MessageType::release);
    CHECK(r->ciaddr == offered);
    CHECK(r->server_id == server);
    CHECK(!r->requested_ip);
    CHECK(r->client_id.size() == 7);
}

TEST_CASE("An ACK with every option parses into the fields")
{
    auto s = reply(MessageType::ack, 77);
    s.t1 = 30;
    s.t2 = 100;
    s.classless_routes = {{0x0a000000, 8, server}, {0, 0, server}, {0xc6336400, 24, 0}};
    auto p = parse_reply(build_reply(s), 77, mac);
    REQUIRE(p);
    CHECK(p->type == MessageType::ack);
    CHECK(p->yiaddr == offered);
    CHECK(p->subnet_mask == 0xffffff00u);
    CHECK(p->routers == std::vector<Ipv4>{server});
    CHECK(p->dns == std::vector<Ipv4>{0xc0000235});
    CHECK(p->domain == "example.net");
    CHECK(p->mtu == 1400);
    CHECK(p->lease_time == 120u);
    CHECK(p->t1 == 30u);
    CHECK(p->t2 == 100u);
    REQUIRE(p->classless_routes);
    CHECK(*p->classless_routes == s.classless_routes);
}

TEST_CASE("Lease from an ACK: defaults, classless routes override option 3")
{
    auto s = reply(MessageType::ack, 1, 1000);
    s.classless_routes = {{0x0a000000, 8, 0xc00002fe}};
    auto p = parse_reply(build_reply(s), 1, mac);
    REQUIRE(p);
    Lease l = lease_from_ack(*p, 5 * S);
    CHECK(l.address == offered);
    CHECK(l.prefixlen == 24);
    CHECK(l.t1_s == 500);
    CHECK(l.t2_s == 875);
    CHECK(l.t1_at() == 505 * S);
    CHECK(l.expiry_at() == 1005 * S);
    CHECK(l.mtu == 1400);
    CHECK(l.effective_routes() == std::vector<Route>{{0x0a000000, 8, 0xc00002fe}});
    l.classless_routes.clear();
    CHECK(l.effective_routes() == std::vector<Route>{{0, 0, server}});

    s.subnet_mask.reset();
    auto q = parse_reply(build_reply(s), 1, mac);
    REQUIRE(q);
    CHECK(lease_from_ack(*q, 0).prefixlen == 24);   // 192.x: classful C
}

TEST_CASE("Infinite lease has no timers")
{
    auto p = parse_reply(build_reply(reply(MessageType::ack, 1, infinite_lease)), 1, mac);
    REQUIRE(p);
    Lease l = lease_from_ack(*p, 0);
    CHECK(l.infinite());
    CHECK(l.expiry_at() == std::numeric_limits<int64_t>::max());
}

TEST_CASE("Netmask and classless route helpers")
{
    CHECK(netmask_to_prefixlen(0xffffff00) == uint8_t(24));
    CHECK(netmask_to_prefixlen(0) == uint8_t(0));
    CHECK(netmask_to_prefixlen(0xffffffff) == uint8_t(32));
    CHECK(!netmask_to_prefixlen(0xff00ff00));
    CHECK(prefixlen_to_netmask(24) == 0xffffff00u);
    CHECK(prefixlen_to_netmask(0) == 0u);
    // RFC 3442 examples: 0 -> default; 24 10.17.0 etc.
    std::vector<uint8_t> v = {0, 10, 0, 0, 1, 24, 10, 17, 0, 10, 0, 0, 1, 32, 1, 2, 3, 4, 5, 6, 7, 8};
    auto r = parse_classless_routes(v);
    REQUIRE(r);
    REQUIRE(r->size() == 3);
    CHECK((*r)[0] == Route{0, 0, 0x0a000001});
    CHECK((*r)[1] == Route{0x0a110000, 24, 0x0a000001});
    CHECK((*r)[2] == Route{0x01020304, 32, 0x05060708});
    CHECK(encode_classless_routes(*r) == v);
    CHECK(parse_ip("192.0.2.1") == 0xc0000201u);
    CHECK(!parse_ip("192.0.2"));
    CHECK(!parse_ip("192.0.2.256"));
    CHECK(!parse_ip("1.2.3.4 "));
    CHECK(ip_to_string(0xc0000201) == "192.0.2.1");
}

TEST_CASE("Option overload: options continue in file and sname")
{
    auto b = build_reply(reply(MessageType::ack, 5));
    // Move the lease time option into `file`, DNS into `sname`, set 52 = 3.
    std::vector<uint8_t> p(b.begin(), b.begin() + 240);
    p[108] = option::lease_time, p[109] = 4, p[110] = 0, p[111] = 0, p[112] = 1, p[113] = 0;
    p[114] = option::end;
    p[44] = option::dns, p[45] = 4, p[46] = 9, p[47] = 9, p[48] = 9, p[49] = 9, p[50] = option::end;
    p.insert(p.end(), {option::message_type, 1, 5, option::server_id, 4, 192, 0, 2, 1,
                       option::overload, 1, 3, option::end});
    auto r = parse_reply(p, 5, mac);
    REQUIRE(r);
    CHECK(r->lease_time == 256u);
    CHECK(r->dns == std::vector<Ipv4>{0x09090909});
    // Without option 52 the same fields are ignored (no lease time: refused).
    p[p.size() - 2] = 0;   // overload value 0: invalid
    CHECK(!parse_reply(p, 5, mac));
}

TEST_CASE("Repeated options concatenate (RFC 3396)")
{
    auto b = build_reply(reply(MessageType::ack, 5));
    b.resize(240);
    b.insert(b.end(), {option::message_type, 1, 5, option::server_id, 4, 192, 0, 2, 1,
                       option::lease_time, 4, 0, 0, 0, 60,
                       option::dns, 4, 1, 1, 1, 1, option::dns, 4, 8, 8, 8, 8,
                       option::classless_routes, 3, 8, 10, 192, option::classless_routes, 3, 0, 2, 1,
                       option::end});
    auto p = parse_reply(b, 5, mac);
    REQUIRE(p);
    CHECK(p->dns == std::vector<Ipv4>{0x01010101, 0x08080808});
    REQUIRE(p->classless_routes);
    CHECK(*p->classless_routes == std::vector<Route>{{0x0a000000, 8, server}});
}
