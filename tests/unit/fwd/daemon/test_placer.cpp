// SPDX-License-Identifier: GPL-2.0-or-later
// compile::Placer, the index the daemon keeps of its element-placed runtime rules, against
// a plain pairwise reference (every element box of every placed rule, as the placer was
// before it had an index): random rules of random shapes (hosts, prefixes of every
// length, any, port ranges, both families, several zones and verdicts) placed, and
// removed again with unplace(), must get the same answers.
#include <sys/socket.h>

#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "compile/compile.hpp"
#include "compile/internal.hpp"
#include "net_test.hpp"

using namespace alopex::fwd;
using compile::detail::RtBox;

namespace {

struct Reference {
    std::vector<std::pair<RuntimeRule, std::vector<RtBox>>> placed;

    bool fits(const RuntimeRule &r) const
    {
        auto mine = compile::detail::rt_boxes(r);
        if (mine.empty())
            return false;
        for (const auto &[q, boxes] : placed)
            if (q.zone == r.zone && *q.rule->verdict == *r.rule->verdict)
                for (const RtBox &a : mine)
                    for (const RtBox &b : boxes)
                        if (compile::detail::boxes_overlap(a, b))
                            return false;
        return true;
    }
    bool place(const RuntimeRule &r)
    {
        if (!fits(r))
            return false;
        placed.emplace_back(r, compile::detail::rt_boxes(r));
        return true;
    }
    void unplace(uint64_t id)
    {
        std::erase_if(placed, [&](const auto &p) { return p.first.id == id; });
    }
};

alopex::net::Prefix random_cidr(std::mt19937_64 &rng, bool v6)
{
    const unsigned bits = v6 ? 128 : 32;
    // Mostly hosts and long prefixes in a small space (so that they collide), some short.
    std::uniform_int_distribution<unsigned> kind(0, 9);
    unsigned k = kind(rng);
    unsigned prefix = k < 5 ? bits : k < 8 ? bits - 1 - rng() % 8 : rng() % (bits + 1);
    std::array<uint8_t, 16> b{};
    b[0] = v6 ? 0x20 : 10;
    b[1] = uint8_t(rng() % 2);
    b[v6 ? 15 : 3] = uint8_t(rng() % 64);
    b[v6 ? 14 : 2] = uint8_t(rng() % 2);
    auto a = alopex::net::Address::from_bytes(v6 ? AF_INET6 : AF_INET, std::span<const uint8_t>(b.data(), bits / 8));
    return alopex::net::Prefix(a.value(), prefix).network();   // host bits zero
}

RuntimeRule random_rule(std::mt19937_64 &rng, uint64_t id)
{
    RuntimeRule rr;
    rr.id = id;
    rr.zone = rng() % 4 ? "wan" : "lan";
    Rule r;
    r.proto = rng() % 3 ? Proto::tcp : Proto::udp;
    const unsigned nports = 1 + unsigned(rng() % 3);
    for (unsigned i = 0; i < nports; ++i) {
        uint16_t first = uint16_t(1 + rng() % 40);
        uint16_t last = rng() % 3 ? first : uint16_t(first + rng() % 10);
        r.dport.push_back({first, last});
    }
    switch (rng() % 8) {
    case 0:
        break;   // any
    case 1:
        r.family = Family::ipv4;
        break;
    case 2:
        r.sport.push_back({1, 1});   // not element-shaped
        break;
    default: {
        r.saddr.kind = AddrMatch::Kind::cidrs;
        const unsigned n = 1 + unsigned(rng() % 3);
        for (unsigned i = 0; i < n; ++i)
            r.saddr.cidrs.push_back(random_cidr(rng, rng() % 4 == 0));
    }
    }
    r.verdict = rng() % 5 ? Verdict::accept : Verdict::drop;
    rr.rule = std::move(r);
    return rr;
}

} // namespace

TEST_CASE("Placer: the indexed placement answers as the pairwise reference, with removals")
{
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        compile::Placer placer;
        Reference ref;
        std::vector<RuntimeRule> placed;
        for (uint64_t id = 1; id <= 400; ++id) {
            auto r = random_rule(rng, id);
            INFO("seed " << seed << " rule " << id);
            CHECK(compile::Placer::shaped(r) == !compile::detail::rt_boxes(r).empty());
            const bool want = ref.fits(r);
            REQUIRE(placer.fits(r) == want);
            REQUIRE(placer.place(r) == want);
            if (want) {
                ref.place(r);
                placed.push_back(r);
            }
            // Now and then an element rule goes (RemoveRule, expiry).
            if (!placed.empty() && rng() % 4 == 0) {
                size_t i = size_t(rng() % placed.size());
                placer.unplace(placed[i]);
                ref.unplace(placed[i].id);
                placed.erase(placed.begin() + std::ptrdiff_t(i));
            }
        }
        // Every rule placed still blocks itself; once gone, it fits again.
        for (const auto &r : placed) {
            CHECK_FALSE(placer.fits(r));
            placer.unplace(r);
            CHECK(placer.fits(r));
            placer.place(r);
        }
    }
}

TEST_CASE("Placer: hosts, any and full ranges at the edges of the address space")
{
    auto rule = [](uint64_t id, std::vector<alopex::net::Prefix> from, uint16_t port) {
        RuntimeRule rr;
        rr.id = id;
        rr.zone = "wan";
        Rule r;
        r.proto = Proto::tcp;
        r.dport = {{port, port}};
        if (!from.empty()) {
            r.saddr.kind = AddrMatch::Kind::cidrs;
            r.saddr.cidrs = std::move(from);
        }
        r.verdict = Verdict::accept;
        rr.rule = std::move(r);
        return rr;
    };
    using alopex::test::pfx;
    auto last4 = pfx("255.255.255.255/32");
    auto zero4 = pfx("0.0.0.0/32");
    auto all6 = pfx("::/0");
    auto last6 = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
    compile::Placer p;
    CHECK(p.place(rule(1, {last4}, 80)));
    CHECK(p.place(rule(2, {zero4}, 80)));
    CHECK(p.place(rule(3, {last6}, 80)));
    CHECK_FALSE(p.fits(rule(4, {}, 80)));          // any covers them
    CHECK_FALSE(p.fits(rule(5, {all6}, 80)));
    CHECK(p.fits(rule(6, {}, 81)));
    CHECK(p.place(rule(7, {pfx("255.255.255.254/32")}, 80)));
    p.unplace(rule(3, {last6}, 80));
    CHECK(p.fits(rule(5, {all6}, 80)));
    CHECK_FALSE(p.fits(rule(8, {}, 80)));          // the IPv4 ones still there
}
