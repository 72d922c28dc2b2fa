// SPDX-License-Identifier: GPL-2.0-or-later
// nft::Session without a kernel. What it accepts as an answer: only datagrams the kernel
// sent (a second socket plays the forger on NETLINK_USERSOCK, where any process may send
// to any port id, so no privileges are needed: its fake answers and fake end of a dump are
// dropped unread). Against a peer the test plays (a datagram socketpair,
// tests/unit/netlink_peer.hpp): the loop runs on while the answers are late, a deadline
// fails the apply, the dumps of what exists go one after the other (an interrupted one is
// asked again), a refused persist flag is retried without it, a known table is not dumped.
// And the dump parsers on datagrams the kernel really sent (captured into the fuzz
// corpus), and on hostile ones.
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "fwd/nft_peer.hpp"
#include "nft/dump.hpp"
#include "nft/session.hpp"

using namespace alopex;
using namespace alopex::fwd::nft;
using namespace alopex::fwd::nft::detail;
using namespace std::chrono_literals;

namespace {

using Bytes8 = std::vector<uint8_t>;

std::vector<std::byte> to_bytes(const Bytes8 &b)
{
    const auto *p = reinterpret_cast<const std::byte *>(b.data());
    return {p, p + b.size()};
}

// An NLMSG_ERROR (error 0: an ack) for `seq`, addressed to `portid`.
Bytes8 error_message(uint32_t seq, uint32_t portid, int error)
{
    Bytes8 b(NLMSG_LENGTH(sizeof(nlmsgerr)));
    auto *h = reinterpret_cast<nlmsghdr *>(b.data());
    h->nlmsg_len = uint32_t(b.size());
    h->nlmsg_type = NLMSG_ERROR;
    h->nlmsg_flags = NLM_F_CAPPED;
    h->nlmsg_seq = seq;
    h->nlmsg_pid = portid;
    auto *e = static_cast<nlmsgerr *>(NLMSG_DATA(h));
    e->error = -error;
    e->msg.nlmsg_len = NLMSG_HDRLEN;
    e->msg.nlmsg_seq = seq;
    return b;
}

Bytes8 done_message(uint32_t seq, uint32_t portid, uint16_t flags = NLM_F_MULTI)
{
    Bytes8 b(NLMSG_LENGTH(sizeof(int)));
    auto *h = reinterpret_cast<nlmsghdr *>(b.data());
    h->nlmsg_len = uint32_t(b.size());
    h->nlmsg_type = NLMSG_DONE;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    h->nlmsg_pid = portid;
    return b;
}

// A process of its own on the same netlink protocol, sending to `to`.
struct Forger {
    Fd fd{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK)};
    Forger()
    {
        REQUIRE(fd);
        sockaddr_nl me{};
        me.nl_family = AF_NETLINK;   // nl_pid 0: the kernel picks a free port id
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr *>(&me), sizeof me) == 0);
    }
    void send(uint32_t to, const Bytes8 &bytes)
    {
        sockaddr_nl dst{};
        dst.nl_family = AF_NETLINK;
        dst.nl_pid = to;
        // Unicast netlink is delivered into the receiver's queue before sendto returns.
        REQUIRE(::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr *>(&dst),
                         sizeof dst) == ssize_t(bytes.size()));
    }
};

bool readable(int fd)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

Bytes8 seed(const std::string &name)
{
    std::ifstream f(std::string(FWD_NFT_CORPUS) + "/" + name, std::ios::binary);
    REQUIRE(f);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Every message of a datagram gets `seq` (and port `portid`).
Bytes8 renumbered(Bytes8 d, uint32_t seq, uint32_t portid = 0)
{
    auto *h = reinterpret_cast<nlmsghdr *>(d.data());
    int left = int(d.size());
    while (NLMSG_OK(h, left)) {
        h->nlmsg_seq = seq;
        h->nlmsg_pid = portid;
        h = NLMSG_NEXT(h, left);
    }
    return d;
}

// Each message of a datagram, as the Requester hands them on.
template <class F> void each_message(const Bytes8 &d, F f)
{
    const auto *h = reinterpret_cast<const nlmsghdr *>(d.data());
    int left = int(d.size());
    while (NLMSG_OK(h, left)) {
        f(h);
        h = NLMSG_NEXT(h, left);
    }
}

// A kernel channel whose requests go nowhere: on NETLINK_USERSOCK nothing in the kernel
// listens (a send would fail with ECONNREFUSED), but what arrives is read as the kernel
// channel reads it.
struct Unheard final : netlink::RequestChannel {
    std::unique_ptr<netlink::RequestChannel> inner;
    explicit Unheard(std::unique_ptr<netlink::RequestChannel> c) : inner(std::move(c)) {}
    int fd() const noexcept override { return inner->fd(); }
    Result<> send(std::span<const std::byte>) override { return {}; }
    Result<netlink::Transport::Received> receive(std::span<std::byte> buf) override { return inner->receive(buf); }
    size_t receive_room() const noexcept override { return inner->receive_room(); }
    Result<> reserve_send(size_t) override { return {}; }
};

// A Session over a socketpair; the test answers for the kernel.
struct Rig : fwd::test::NftPeer {
    std::unique_ptr<Session> s;
    explicit Rig(std::chrono::microseconds timeout = 2s)
    {
        auto r = Session::create(event.get(), make_channel(), timeout);
        REQUIRE(r);
        s = std::move(*r);
    }
    void send(const Bytes8 &b) { reply(to_bytes(b)); }
};

} // namespace

TEST_CASE("answers from a sender other than the kernel are dropped unread", "[nft]")
{
    test::PeerLoop loop;
    auto ch = netlink::open_request_channel(NETLINK_USERSOCK, 1 << 20);
    REQUIRE(ch);
    const int fd = (*ch)->fd();
    auto s = Session::create(loop.event.get(), std::make_unique<Unheard>(std::move(*ch)), 200ms);
    REQUIRE(s);
    const uint32_t port = (*s)->portid();
    REQUIRE(port != 0);
    Forger forger;
    // A fake table, its fake ack and a fake refusal, for every seq the requests can have.
    for (uint32_t seq = 1; seq <= 4; ++seq) {
        forger.send(port, renumbered(seed("kernel-table"), seq, port));
        forger.send(port, error_message(seq, port, 0));
    }
    std::optional<Result<TableInfo>> table;
    (*s)->table([&](Result<TableInfo> t) { table = std::move(t); });
    loop.run_until([&] { return table.has_value(); });
    // Nothing the kernel said: no table, no answer at all.
    REQUIRE_FALSE(*table);
    CHECK(table->error().code == ETIMEDOUT);
    CHECK_FALSE(readable(fd));   // read and dropped

    // A fake counter dump and its fake end.
    for (uint32_t seq = 1; seq <= 8; ++seq) {
        forger.send(port, renumbered(seed("kernel-counters-2"), seq, port));
        forger.send(port, done_message(seq, port));
    }
    std::optional<Result<std::map<std::string, CounterValue>>> counters;
    (*s)->counters([&](auto c) { counters = std::move(c); });
    loop.run_until([&] { return counters.has_value(); });
    REQUIRE_FALSE(*counters);
    CHECK(counters->error().code == ETIMEDOUT);
    CHECK_FALSE(readable(fd));
}

TEST_CASE("the loop runs on while nf_tables is slow to answer; the answer completes the apply", "[nft]")
{
    Rig r;
    std::optional<Result<>> done;
    r.s->apply(Ruleset{}, [&](Result<> x) { done = std::move(x); });
    r.no_table();
    auto batch = r.next();
    REQUIRE(batch.batch);
    REQUIRE(batch.acked.size() == 1);   // NEWTABLE
    const int ticks = r.ticks;
    r.run_for(150ms);   // the kernel says nothing for a while: the loop goes on
    CHECK_FALSE(done.has_value());
    CHECK(r.ticks > ticks + 10);
    CHECK(r.s->commits() == 0);
    r.ack_all(batch);
    r.run_until([&] { return done.has_value(); });
    CHECK(*done);
    CHECK(r.s->commits() == 1);

    // The table is ours now (owner flag): the next apply sends its batch without a dump.
    done.reset();
    r.s->apply(Ruleset{}, [&](Result<> x) { done = std::move(x); });
    auto again = r.next();
    CHECK(again.batch);
    r.ack_all(again);
    r.run_until([&] { return done.has_value(); });
    CHECK(*done);
    CHECK(r.s->commits() == 2);
}

TEST_CASE("an apply the kernel does not answer fails at its deadline", "[nft]")
{
    Rig r(100ms);
    std::optional<Result<>> done;
    r.s->apply(Ruleset{}, [&](Result<> x) { done = std::move(x); });
    r.no_table();
    REQUIRE(r.next().batch);
    r.run_until([&] { return done.has_value(); });
    REQUIRE_FALSE(*done);
    CHECK(done->error().code == ETIMEDOUT);
    CHECK(r.s->commits() == 0);
    // Not known to be ours any more: the next apply asks what exists first.
    r.s->apply(Ruleset{}, [&](Result<>) {});
    CHECK(r.next().type == NFT_MSG_GETTABLE);
}

TEST_CASE("a refused persist flag is retried without owner and persist", "[nft]")
{
    Rig r;
    std::optional<Result<>> done;
    r.s->apply(Ruleset{}, [&](Result<> x) { done = std::move(x); });
    r.no_table();
    auto first = r.next();
    REQUIRE(first.acked.size() == 1);
    r.ack_all(first, first.acked[0], EOPNOTSUPP);   // NEWTABLE: no NFT_TABLE_F_PERSIST (< 6.9)
    auto second = r.next();
    REQUIRE(second.batch);
    r.ack_all(second);
    r.run_until([&] { return done.has_value(); });
    CHECK(*done);
    std::optional<Result<TableInfo>> t;
    r.s->table([&](auto x) { t = std::move(x); });
    auto get = r.next();
    r.send(renumbered(seed("kernel-table"), get.seq));
    r.reply(test::answer(get.seq, 0));
    r.run_until([&] { return t.has_value(); });
    REQUIRE(*t);
    CHECK_FALSE((*t)->persist_supported);
    // Without the owner flag the table is not known to be ours: dumped again next time.
    r.s->apply(Ruleset{}, [&](Result<>) {});
    CHECK(r.next().type == NFT_MSG_GETTABLE);
}

TEST_CASE("what exists is dumped step by step; an interrupted dump is asked again", "[nft]")
{
    Rig r;
    std::optional<Result<>> done;
    r.s->apply(Ruleset{}, [&](Result<> x) { done = std::move(x); });
    auto get = r.next();
    REQUIRE(get.type == NFT_MSG_GETTABLE);
    r.send(renumbered(seed("kernel-table"), get.seq));
    r.reply(test::answer(get.seq, 0));
    auto chains = r.next();
    REQUIRE(chains.type == NFT_MSG_GETCHAIN);
    r.send(renumbered(seed("kernel-chains-3"), chains.seq));
    r.send(done_message(chains.seq, 0, NLM_F_MULTI | NLM_F_DUMP_INTR));   // a commit raced the dump
    auto chains2 = r.next();
    REQUIRE(chains2.type == NFT_MSG_GETCHAIN);
    CHECK(chains2.seq != chains.seq);
    r.send(renumbered(seed("kernel-chains-3"), chains2.seq));
    r.send(done_message(chains2.seq, 0));
    auto sets = r.next();
    REQUIRE(sets.type == NFT_MSG_GETSET);
    r.send(renumbered(seed("kernel-sets"), sets.seq));
    r.send(done_message(sets.seq, 0));
    auto counters = r.next();
    REQUIRE(counters.type == NFT_MSG_GETOBJ);
    r.send(renumbered(seed("kernel-counters-2"), counters.seq));
    r.send(done_message(counters.seq, 0));
    auto batch = r.next();
    REQUIRE(batch.batch);
    r.ack_all(batch);
    r.run_until([&] { return done.has_value(); });
    REQUIRE(*done);
    // Every chain, set and counter that existed went (the ruleset has none).
    CHECK(r.s->last_stats().chains_deleted == 3);
    CHECK(r.s->last_stats().sets_deleted >= 3);
}

TEST_CASE("a message claiming 2 GiB or more is not followed; the answer after it counts", "[nft]")
{
    // NLMSG_OK compares the length with what is left: 0xffff0030 ends the datagram.
    Rig r;
    std::optional<Result<TableInfo>> t;
    r.s->table([&](auto x) { t = std::move(x); });
    auto get = r.next();
    auto d = error_message(get.seq, 0, EPERM);
    auto tail = done_message(get.seq, 0);
    d.insert(d.end(), tail.begin(), tail.end());
    reinterpret_cast<nlmsghdr *>(d.data())->nlmsg_len = 0xffff0030u;
    r.send(d);
    r.run_for(20ms);
    CHECK_FALSE(t.has_value());
    r.reply(test::answer(get.seq, ENOENT));
    r.run_until([&] { return t.has_value(); });
    REQUIRE(*t);
    CHECK_FALSE((*t)->exists);
}

TEST_CASE("dump parsers read what the kernel sent", "[nft]")
{
    auto run = [](const Bytes8 &d, auto cb) {
        each_message(d, [&](const nlmsghdr *n) { REQUIRE(cb(n) == MNL_CB_OK); });
    };
    TableInfo t;
    run(seed("kernel-table"), [&](const nlmsghdr *n) { return parse_table(n, 2215, t); });
    CHECK(t.exists);
    CHECK((t.flags & table_f_owner));
    CHECK(t.owner == 2215);
    CHECK(t.ours);
    std::map<std::string, ExistingChain> chains;
    run(seed("kernel-chains-3"), [&](const nlmsghdr *n) { return parse_chain(n, chains); });
    REQUIRE(chains.size() == 3);
    REQUIRE(chains.at("input").hook);
    CHECK(chains.at("input").hook->hooknum == 1);
    CHECK(chains.at("input").hook->type == "filter");
    CHECK(chains.at("input").hook->priority == 0);
    CHECK(chains.at("input").hook->policy == 1);
    CHECK_FALSE(chains.at("zone_wan").hook);
    std::map<std::string, SetShape> sets;
    run(seed("kernel-sets"), [&](const nlmsghdr *n) { return parse_set(n, sets); });
    REQUIRE(sets.size() >= 3);
    CHECK(sets.at("addr4").interval);
    CHECK(sets.at("addr4").key_len == 4);
    CHECK_FALSE(sets.at("addr4").udata.empty());
    CHECK(sets.at("ifzone").data_type == NFT_DATA_VERDICT);
    std::map<std::string, CounterValue> counters;
    run(seed("kernel-counters-2"), [&](const nlmsghdr *n) { return parse_counter(n, counters); });
    CHECK(counters.size() == 2);

    // The kernel's "no such table", through a Session.
    Rig r;
    std::optional<Result<TableInfo>> info;
    r.s->table([&](auto x) { info = std::move(x); });
    auto get = r.next();
    r.send(renumbered(seed("kernel-gettable-enoent"), get.seq));
    r.run_until([&] { return info.has_value(); });
    REQUIRE(*info);
    CHECK_FALSE((*info)->exists);
}

TEST_CASE("dump parsers refuse malformed messages instead of exiting", "[nft]")
{
    // A chain of table alopex whose name is not NUL-terminated, a table whose flags are
    // two bytes (libnftnl would exit() on that), a message of the wrong type.
    auto chains = seed("kernel-chains-3");
    auto *nlh = reinterpret_cast<nlmsghdr *>(chains.data());
    std::vector<uint8_t> one(chains.begin(), chains.begin() + nlh->nlmsg_len);
    std::map<std::string, ExistingChain> out;
    {
        auto bad = one;
        // Overwrite every NUL inside the NFTA_CHAIN_NAME payload ("input\0\0\0").
        auto at = std::search(bad.begin(), bad.end(), std::begin("input"), std::end("input") - 1);
        REQUIRE(at != bad.end());
        std::fill(at + 5, at + 8, 'x');
        CHECK(parse_chain(reinterpret_cast<nlmsghdr *>(bad.data()), out) == MNL_CB_ERROR);
    }
    auto table = seed("kernel-table");
    {
        auto bad = table;
        // NFTA_TABLE_FLAGS (type 2) with a 2-byte payload.
        bool found = false;
        auto *h = reinterpret_cast<nlmsghdr *>(bad.data());
        for (size_t off = NLMSG_HDRLEN + 4; off + 4 <= h->nlmsg_len;) {
            auto *a = reinterpret_cast<nlattr *>(bad.data() + off);
            if (a->nla_len < 4)
                break;
            if ((a->nla_type & NLA_TYPE_MASK) == NFTA_TABLE_FLAGS) {
                a->nla_len = 6;
                found = true;
                break;
            }
            off += NLA_ALIGN(a->nla_len);
        }
        REQUIRE(found);
        TableInfo t;
        CHECK(parse_table(h, 1, t) == MNL_CB_ERROR);
        CHECK_FALSE(t.exists);
    }
    TableInfo t;
    CHECK(parse_table(reinterpret_cast<nlmsghdr *>(one.data()), 1, t) == MNL_CB_ERROR);   // a chain
    CHECK(parse_chain(reinterpret_cast<nlmsghdr *>(table.data()), out) == MNL_CB_ERROR);   // a table
    CHECK(out.empty());
}

