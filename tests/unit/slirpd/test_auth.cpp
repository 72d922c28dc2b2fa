// SPDX-License-Identifier: GPL-2.0-or-later
// Authentication of the peer: the Authenticator alone (PAP and CHAP-MD5, right and wrong
// secrets, unknown names, repeats after success, timeouts, hostile packets), LCP's
// Authentication-Protocol option, and the Link against the test peer authenticating as
// pppd's `user NAME` does (the NCPs only after it passed, the link terminated when it
// fails or refuses).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "auth.hpp"
#include "lcp_options.hpp"
#include "link.hpp"
#include "packet.hpp"
#include "ppp_peer.hpp"

using namespace alopex;
using namespace alopex::slirp::ppp;
using Bytes = std::vector<uint8_t>;

namespace {

struct Sent {
    uint16_t protocol;
    Bytes info;
};

struct Auth {
    AuthConfig config;
    std::vector<Sent> sent;
    std::vector<bool> results;
    uint32_t n = 100;
    Authenticator a;
    explicit Auth(uint16_t protocol, AuthConfig c = secrets())
        : config(std::move(c)), a(protocol, config, [this] { return n++; },
                                  [this](uint16_t p, Bytes i) { sent.push_back({p, std::move(i)}); },
                                  [this](bool ok) { results.push_back(ok); })
    {
    }
    static AuthConfig secrets()
    {
        AuthConfig c;
        c.name = "slirp-test";
        c.secrets = {{"pikvm", "s3cret"}, {"empty", ""}};
        return c;
    }
    // The code of the last packet sent, and its message.
    std::pair<uint8_t, std::string> last() const
    {
        auto p = parse_packet(sent.back().info);
        REQUIRE(p);
        auto m = sent.back().protocol == proto_pap ? p->data.subspan(1) : p->data;
        return {p->code, std::string(m.begin(), m.end())};
    }
};

Bytes pap_request(uint8_t id, std::string_view name, std::string_view password)
{
    Bytes d{static_cast<uint8_t>(name.size())};
    d.insert(d.end(), name.begin(), name.end());
    d.push_back(static_cast<uint8_t>(password.size()));
    d.insert(d.end(), password.begin(), password.end());
    Bytes out;
    build_packet(out, 1, id, d);
    return out;
}

// The Response to the Challenge last sent, with `secret` and `name`.
Bytes chap_response(const Auth &t, std::string_view secret, std::string_view name)
{
    auto c = parse_packet(t.sent.back().info);
    REQUIRE(c);
    REQUIRE(c->code == 1);
    auto v = *chap_md5_response(c->id, secret, c->data.subspan(1, c->data[0]));
    Bytes d{16};
    d.insert(d.end(), v.begin(), v.end());
    d.insert(d.end(), name.begin(), name.end());
    Bytes out;
    build_packet(out, 2, c->id, d);
    return out;
}

} // namespace

TEST_CASE("auth PAP: the right password passes, a repeat is acknowledged again; wrong ones fail", "[slirp][auth]")
{
    Auth t(proto_pap);
    t.a.start(0);
    CHECK(t.sent.empty());
    t.a.input(pap_request(1, "pikvm", "s3cret"), 10);
    REQUIRE(t.results == std::vector<bool>{true});
    CHECK(t.last() == std::pair<uint8_t, std::string>{2, "Login ok"});
    CHECK(t.a.peer_name() == "pikvm");
    t.a.input(pap_request(2, "pikvm", "s3cret"), 20);   // our Ack was lost
    CHECK(t.last().first == 2);
    CHECK(t.results.size() == 1);

    for (auto [name, password, why] : {std::tuple{"pikvm", "s3cre", "wrong password"},
                                       std::tuple{"pikvm", "s3cret ", "wrong password"},
                                       std::tuple{"nobody", "s3cret", "unknown name"},
                                       std::tuple{"empty", "", "wrong password"}}) {
        Auth bad(proto_pap);
        bad.a.start(0);
        bad.a.input(pap_request(1, name, password), 10);
        CHECK(bad.results == std::vector<bool>{false});
        CHECK(bad.last() == std::pair<uint8_t, std::string>{3, "Login incorrect"});
        CHECK(bad.a.reason() == why);
        bad.a.input(pap_request(2, "pikvm", "s3cret"), 20);   // after a failure: nothing
        CHECK(bad.sent.size() == 1);
    }
}

TEST_CASE("auth PAP hostile: lengths past the end, other codes; no request in time fails", "[slirp][auth]")
{
    Auth t(proto_pap);
    t.a.start(0);
    for (Bytes p : {Bytes{1, 1, 0, 4}, Bytes{1, 1, 0, 5, 9}, Bytes{1, 1, 0, 7, 2, 'a', 'b'},
                    Bytes{1, 1, 0, 9, 2, 'a', 'b', 5, 'x'}, Bytes{2, 1, 0, 5, 0}, Bytes{9, 1, 0, 4}, Bytes{1},
                    Bytes{1, 1, 0, 200, 0, 0}}) {
        t.a.input(p, 5);
    }
    CHECK(t.sent.empty());
    CHECK(t.results.empty());
    CHECK(t.a.stats().discarded == 8);
    CHECK(t.a.next_deadline() == 30'000'000);
    t.a.advance(30'000'000);
    CHECK(t.results == std::vector<bool>{false});
    CHECK(t.a.reason() == "no Authenticate-Request in time");
}

TEST_CASE("auth CHAP: a Challenge, the right Response passes; wrong secrets and names fail", "[slirp][auth]")
{
    Auth t(proto_chap);
    t.a.start(0);
    REQUIRE(t.sent.size() == 1);
    auto c = parse_packet(t.sent[0].info);
    REQUIRE(c);
    CHECK(c->code == 1);
    CHECK(c->data[0] == 16);
    CHECK(std::string(c->data.begin() + 17, c->data.end()) == "slirp-test");
    Bytes good = chap_response(t, "s3cret", "pikvm");
    t.a.input(good, 10);
    REQUIRE(t.results == std::vector<bool>{true});
    CHECK(t.last() == std::pair<uint8_t, std::string>{3, "Welcome"});
    t.a.input(good, 20);   // the Success was lost: again
    CHECK(t.last().first == 3);
    CHECK(t.sent.size() == 3);

    for (auto [secret, name] : {std::pair{"s3cre", "pikvm"}, std::pair{"s3cret", "nobody"}, std::pair{"", "empty"}}) {
        Auth bad(proto_chap);
        bad.a.start(0);
        bad.a.input(chap_response(bad, secret, name), 10);
        CHECK(bad.results == std::vector<bool>{false});
        CHECK(bad.last() == std::pair<uint8_t, std::string>{4, "Access denied"});
    }
}

TEST_CASE("auth CHAP hostile: another identifier or value size discarded; Challenges again, then give up",
          "[slirp][auth]")
{
    Auth t(proto_chap);
    t.a.start(0);
    Bytes r = chap_response(t, "s3cret", "pikvm");
    Bytes other_id = r;
    other_id[1] ^= 1;
    Bytes short_value = r;
    short_value[4] = 15;
    for (const Bytes &p : {other_id, short_value, Bytes{2, r[1], 0, 5, 16}, Bytes{3, r[1], 0, 4}, Bytes{2}})
        t.a.input(p, 5);
    CHECK(t.results.empty());
    CHECK(t.a.stats().discarded == 5);
    for (unsigned i = 1; i < 10; ++i) {
        t.a.advance(t.a.next_deadline());
        CHECK(t.sent.size() == i + 1);
    }
    auto first = parse_packet(t.sent[0].info), again = parse_packet(t.sent[1].info);
    CHECK(first->id != again->id);   // a new Challenge, a new identifier
    t.a.input(r, t.a.next_deadline() - 1);   // the answer to an old Challenge
    CHECK(t.results.empty());
    t.a.advance(t.a.next_deadline());
    CHECK(t.results == std::vector<bool>{false});
    CHECK(t.a.reason() == "no answer to the CHAP Challenge");
}

TEST_CASE("lcp auth option: CHAP asked, a Nak to PAP followed, anything else the next; a Reject is a refusal",
          "[slirp][auth][lcp]")
{
    LcpOptions o({.auth = {proto_chap, proto_pap}}, [] { return 7u; });
    auto has = [&](Bytes v) {
        Bytes req = o.request();
        auto l = parse_options(req);
        REQUIRE(l);
        for (const auto &x : *l)
            if (x.type == lcp_option::auth_protocol)
                return Bytes(x.value.begin(), x.value.end()) == v;
        return false;
    };
    CHECK(has({0xC2, 0x23, 5}));
    REQUIRE(o.on_nak(Bytes{3, 4, 0xC0, 0x23}));
    CHECK(has({0xC0, 0x23}));
    REQUIRE(o.on_nak(Bytes{3, 5, 0xC2, 0x23, 5}));
    CHECK(has({0xC2, 0x23, 5}));
    REQUIRE(o.on_nak(Bytes{3, 5, 0xC2, 0x23, 0x80}));   // MS-CHAP: not ours, the next one
    CHECK(has({0xC0, 0x23}));
    REQUIRE(o.on_nak(Bytes{3, 4, 0xC0, 0x27}));   // EAP: the last stays
    CHECK(has({0xC0, 0x23}));
    REQUIRE(o.on_ack(o.request()));
    CHECK(o.settings().auth == proto_pap);
    CHECK_FALSE(o.auth_refused());
    REQUIRE(o.on_reject(Bytes{3, 4, 0xC0, 0x23}));
    CHECK(o.auth_refused());
    CHECK_FALSE(has({0xC0, 0x23}));
    REQUIRE(o.on_ack(o.request()));
    CHECK(o.settings().auth == 0);
    LcpOptions none({}, [] { return 7u; });
    CHECK_FALSE(none.on_reject(Bytes{3, 4, 0xC0, 0x23}));   // not asked: not a Reject of ours
}

namespace {

struct Rig {
    Bytes to_peer;
    std::vector<Bytes> ip;
    int ups = 0;
    std::vector<bool> results;
    uint64_t now = 1'000'000;
    Link link;
    slirp_test::Peer peer;
    explicit Rig(std::vector<uint16_t> protocols)
        : link(config(std::move(protocols)), [n = 0x5000u]() mutable { return n++; },
               {[this](std::span<const uint8_t> b) { to_peer.insert(to_peer.end(), b.begin(), b.end()); },
                [this](std::span<const uint8_t> p) { ip.emplace_back(p.begin(), p.end()); }, [this] { ++ups; }, {},
                {}, {}, {}, [this](bool ok) { results.push_back(ok); }, {}})
    {
    }
    static LinkConfig config(std::vector<uint16_t> protocols)
    {
        LinkConfig c;
        c.auth.protocols = std::move(protocols);
        c.auth.secrets = {{"pikvm", "s3cret"}};
        c.echo_interval_usec = 0;
        return c;
    }
    void exchange()
    {
        for (int i = 0; i < 100 && (!to_peer.empty() || !peer.to_link.empty()); ++i) {
            peer.input(std::exchange(to_peer, {}));
            link.line_input(std::exchange(peer.to_link, {}), now);
        }
    }
    void connect(std::optional<slirp_test::PeerAuth> a)
    {
        peer.auth = std::move(a);
        link.start(now);
        peer.start();
        exchange();
    }
};

slirp_test::PeerAuth user(std::string secret, std::vector<uint16_t> accept = {proto_chap, proto_pap})
{
    slirp_test::PeerAuth a;
    a.name = "pikvm";
    a.secret = std::move(secret);
    a.accept = std::move(accept);
    return a;
}

} // namespace

TEST_CASE("link auth: CHAP passes, then IPCP; a peer that only takes PAP gets PAP", "[slirp][auth][link]")
{
    Rig r({proto_chap, proto_pap});
    r.connect(user("s3cret"));
    CHECK(r.results == std::vector<bool>{true});
    CHECK(r.link.auth_protocol() == proto_chap);
    CHECK(r.link.auth_peer() == "pikvm");
    CHECK(r.peer.auth->passed);
    CHECK(r.link.phase() == Phase::Network);
    CHECK(r.link.ipcp_state() == State::Opened);
    CHECK(r.ups == 1);
    CHECK(r.link.stats().auth_successes == 1);

    Rig pap({proto_chap, proto_pap});
    pap.connect(user("s3cret", {proto_pap}));
    CHECK(pap.results == std::vector<bool>{true});
    CHECK(pap.link.auth_protocol() == proto_pap);
    CHECK(pap.link.ipcp_state() == State::Opened);
}

TEST_CASE("link auth: a wrong secret or a refusal terminates the link; no IPCP before", "[slirp][auth][link]")
{
    Rig r({proto_chap});
    r.connect(user("wrong"));
    CHECK(r.results == std::vector<bool>{false});
    CHECK(r.peer.auth->failed);
    CHECK(r.link.auth_reason() == "wrong CHAP response (another secret)");
    CHECK(r.link.ipcp_state() != State::Opened);
    CHECK(r.ups == 0);
    CHECK(r.link.lcp_state() != State::Opened);
    CHECK(r.link.stats().auth_failures == 1);
    CHECK_FALSE(r.peer.ipcp_open);

    Rig refused({proto_pap});
    refused.connect(std::nullopt);   // the peer's LCP rejects the option, as pppd without a user
    CHECK(refused.results == std::vector<bool>{false});
    CHECK(refused.link.auth_reason() == "the peer refused to authenticate");
    CHECK(refused.link.stats().auth_refused == 1);
    CHECK(refused.ups == 0);
    CHECK(refused.link.lcp_state() != State::Opened);
}

TEST_CASE("link auth: after a failure LCP terminates, then opens again for the next dial, which passes",
          "[slirp][auth][link]")
{
    Rig r({proto_chap});
    r.connect(user("wrong"));
    REQUIRE(r.results == std::vector<bool>{false});
    CHECK(r.link.phase() != Phase::Network);
    // The peer hangs up (pppd exits after a failure); a correct one dials.
    for (int i = 0; i < 20 && r.link.next_deadline() != UINT64_MAX; ++i) {
        r.now = std::max(r.now, r.link.next_deadline());
        r.link.advance(r.now);
        r.to_peer.clear();
        if (r.link.lcp_state() == State::ReqSent)
            break;
    }
    CHECK(r.link.lcp_state() == State::ReqSent);   // opened again after the hold-off
    slirp_test::Peer second;   // (a Peer is not movable: its protocols point back at it)
    second.auth = user("s3cret");
    second.start();
    auto exchange = [&] {
        for (int i = 0; i < 100 && (!r.to_peer.empty() || !second.to_link.empty()); ++i) {
            second.input(std::exchange(r.to_peer, {}));
            r.link.line_input(std::exchange(second.to_link, {}), r.now);
        }
    };
    exchange();
    for (int i = 0; i < 5 && r.link.ipcp_state() != State::Opened; ++i) {
        r.now = std::max(r.now, r.link.next_deadline());
        r.link.advance(r.now);
        exchange();
    }
    CHECK(r.results == std::vector<bool>{false, true});
    CHECK(r.link.ipcp_state() == State::Opened);
}

TEST_CASE("link auth: a refusal closes LCP cleanly; a hangup mid-CHAP sends no more Challenges",
          "[slirp][auth][link]")
{
    Rig refused({proto_pap});
    refused.connect(std::nullopt);
    CHECK(refused.link.auth_protocol() == 0);
    CHECK(refused.link.lcp_state() != State::Opened);   // not left Opened by a close inside this-layer-up
    CHECK(refused.link.next_deadline() != UINT64_MAX);   // Terminate-Request retried, or the reopen

    Rig r({proto_chap});
    r.peer.auth = user("s3cret");
    r.peer.auth->accept = {proto_chap};
    r.link.start(r.now);
    r.peer.start();
    // LCP up both ways but the Challenge is lost; then the line hangs up.
    for (int i = 0; i < 10 && r.link.phase() != Phase::Authenticate; ++i) {
        r.peer.input(std::exchange(r.to_peer, {}));
        r.link.line_input(std::exchange(r.peer.to_link, {}), r.now);
    }
    REQUIRE(r.link.phase() == Phase::Authenticate);
    r.to_peer.clear();
    r.link.stop(r.now);
    for (int i = 0; i < 20; ++i) {
        r.now += 3'000'000;
        r.link.advance(r.now);
    }
    CHECK(r.to_peer.empty());   // nothing while the line is down
    CHECK(r.results.empty());
    CHECK(r.link.stats().auth_failures == 0);
}

TEST_CASE("ipcp and ipv6cp: a new request of ours keeps what the peer's acknowledged request said",
          "[slirp][ipcp][ipv6cp]")
{
    IpcpConfig c;
    c.client = true;
    c.local = net::Address::v4(0);
    IpcpOptions o(c);
    auto r = o.on_request(Bytes{2, 6, 0, 0x2D, 15, 1, 3, 6, 10, 0, 0, 1}, false);
    REQUIRE(r->code == Code::ConfigureAck);
    o.reset();   // RFC 1661's RCR in Opened: tld, scr (our request again), sca
    CHECK(o.peer() == net::Address::v4(0x0A000001));
    CHECK(o.vj_to_peer());

    Ipv6cpOptions six({.enabled = true, .local_id = 5}, [] { return 9u; });
    Bytes id = {1, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    REQUIRE(six.on_request(id, false)->code == Code::ConfigureAck);
    six.reset();
    CHECK(six.peer_id() == 0x0102030405060708);
}
