// SPDX-License-Identifier: GPL-2.0-or-later
// What fwd's nf_tables socket accepts as an answer: only datagrams the kernel sent. A
// second socket plays the forger on NETLINK_USERSOCK (where any process may send to any
// port id, so no privileges are needed): its fake acks and its fake end of a dump are
// dropped unread. And the dump parsers on datagrams the kernel really sent (captured into
// the fuzz corpus), and on hostile ones.
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
#include <string>
#include <vector>

#include <libmnl/libmnl.h>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "nft/dump.hpp"
#include "nft/socket.hpp"

using namespace alopex::fwd::nft;
using namespace alopex::fwd::nft::detail;
using namespace std::chrono_literals;

namespace {

// An NLMSG_ERROR (error 0: an ack) for `seq`, addressed to `portid`.
std::vector<uint8_t> error_message(uint32_t seq, uint32_t portid, int error)
{
    std::vector<uint8_t> b(NLMSG_LENGTH(sizeof(nlmsgerr)));
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

std::vector<uint8_t> done_message(uint32_t seq, uint32_t portid)
{
    std::vector<uint8_t> b(NLMSG_LENGTH(sizeof(int)));
    auto *h = reinterpret_cast<nlmsghdr *>(b.data());
    h->nlmsg_len = uint32_t(b.size());
    h->nlmsg_type = NLMSG_DONE;
    h->nlmsg_flags = NLM_F_MULTI;
    h->nlmsg_seq = seq;
    h->nlmsg_pid = portid;
    return b;
}

// A process of its own on the same netlink protocol, sending to `to`.
struct Forger {
    alopex::Fd fd{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK)};
    Forger()
    {
        REQUIRE(fd);
        sockaddr_nl me{};
        me.nl_family = AF_NETLINK;   // nl_pid 0: the kernel picks a free port id
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr *>(&me), sizeof me) == 0);
    }
    void send(uint32_t to, const std::vector<uint8_t> &bytes)
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

std::vector<uint8_t> seed(const std::string &name)
{
    std::ifstream f(std::string(FWD_NFT_CORPUS) + "/" + name, std::ios::binary);
    REQUIRE(f);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("acks from a sender other than the kernel are dropped unread", "[nft]")
{
    auto s = Socket::open(NETLINK_USERSOCK);
    REQUIRE(s);
    s->set_timeout(200ms);
    Forger forger;
    // A fake refusal and a fake success of the batch [7, 8], addressed to our port.
    forger.send(s->portid(), error_message(7, s->portid(), EPERM));
    forger.send(s->portid(), error_message(8, s->portid(), 0));
    REQUIRE(readable(s->fd()));
    auto r = s->read_acks(7, 8, 2);
    // Nothing the kernel said: the acks are missing, not refused nor given.
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("2 of 2 acks missing") != std::string::npos);
    CHECK_FALSE(readable(s->fd()));   // read and dropped
}

TEST_CASE("a dump's answer from a sender other than the kernel is dropped unread", "[nft]")
{
    auto s = Socket::open(NETLINK_USERSOCK);
    REQUIRE(s);
    s->set_timeout(200ms);
    Forger forger;
    // A fake table and a fake end of the dump.
    auto table = seed("kernel-table");
    reinterpret_cast<nlmsghdr *>(table.data())->nlmsg_seq = 9;
    reinterpret_cast<nlmsghdr *>(table.data())->nlmsg_pid = s->portid();
    forger.send(s->portid(), table);
    forger.send(s->portid(), done_message(9, s->portid()));
    REQUIRE(readable(s->fd()));
    size_t calls = 0;
    auto r = s->read_dump(9, [&](const nlmsghdr *) {
        ++calls;
        return MNL_CB_OK;
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ETIMEDOUT);
    CHECK(calls == 0);
    CHECK_FALSE(readable(s->fd()));
}

TEST_CASE("dump parsers read what the kernel sent", "[nft]")
{
    auto run = [](const std::vector<uint8_t> &d, auto cb) {
        auto r = dump_datagram(d.data(), d.size(), 0, 0, cb);
        REQUIRE(r);
        return *r;
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
    auto step = run(seed("kernel-counters-2"), [&](const nlmsghdr *n) { return parse_counter(n, counters); });
    CHECK_FALSE(step.done);
    CHECK(counters.size() == 2);
    CHECK(run(seed("kernel-done"), [](const nlmsghdr *) { return MNL_CB_OK; }).done);
    auto enoent = seed("kernel-gettable-enoent");
    auto e = dump_datagram(enoent.data(), enoent.size(), 0, 0, [](const nlmsghdr *) { return MNL_CB_OK; });
    REQUIRE_FALSE(e);
    CHECK(e.error().code == ENOENT);
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
    // A datagram of an unaligned length.
    auto done = seed("kernel-done");
    done.push_back(0);
    CHECK_FALSE(dump_datagram(done.data(), done.size(), 0, 0, [](const nlmsghdr *) { return MNL_CB_OK; }));
}

TEST_CASE("a message claiming 2 GiB or more is malformed, not followed", "[nft]")
{
    // libmnl's mnl_nlmsg_ok compares nlmsg_len as a signed int: 0xffff0030 passes it and
    // mnl_nlmsg_next jumps 4 GiB ahead. Neither parser hands such a datagram to libmnl.
    auto d = error_message(7, 0, EPERM);
    auto tail = done_message(7, 0);
    d.insert(d.end(), tail.begin(), tail.end());
    reinterpret_cast<nlmsghdr *>(d.data())->nlmsg_len = 0xffff0030u;
    std::vector<Ack> acks;
    CHECK_FALSE(collect_acks(d.data(), d.size(), 0, UINT32_MAX, acks));
    auto r = dump_datagram(d.data(), d.size(), 0, 0, [](const nlmsghdr *) { return MNL_CB_OK; });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EBADMSG);
    // The same datagram with honest lengths is read.
    reinterpret_cast<nlmsghdr *>(d.data())->nlmsg_len = NLMSG_LENGTH(sizeof(nlmsgerr));
    CHECK(collect_acks(d.data(), d.size(), 0, UINT32_MAX, acks));
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].error == EPERM);
}
