// SPDX-License-Identifier: GPL-2.0-or-later
// Answers that do not come from the kernel are ignored by a Session: another socket of
// the namespace (root here; any holder of CAP_NET_ADMIN in it may send to our port id)
// floods the Session's port with fake refusals, fake acks and fake ends of dumps for
// every sequence number it will use, and the Session's applies, whose dumps and batches
// would otherwise read them, go through. Checked with nft.
#include <catch2/catch.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "alopex/fd.hpp"
#include "kit.hpp"
#include "nft/session.hpp"
#include "rulesets.hpp"

using namespace alopex::fwd::nft;
using namespace alopex::fwd::nft::test;

namespace {

void put(std::vector<uint8_t> &b, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, int error)
{
    const size_t len = type == NLMSG_ERROR ? NLMSG_LENGTH(sizeof(nlmsgerr)) : NLMSG_LENGTH(sizeof(int));
    const size_t at = b.size();
    b.resize(at + NLMSG_ALIGN(len));
    auto *h = reinterpret_cast<nlmsghdr *>(b.data() + at);
    *h = nlmsghdr{uint32_t(len), type, flags, seq, pid};
    if (type == NLMSG_ERROR) {
        auto *e = static_cast<nlmsgerr *>(NLMSG_DATA(h));
        e->error = -error;
        e->msg = nlmsghdr{NLMSG_HDRLEN, uint16_t(NFNL_SUBSYS_NFTABLES << 8), 0, seq, pid};
    }
}

// Sends, to `portid`, for every seq in [first, last]: a refusal (EPERM), then an end of
// dump; datagrams of 100 messages.
void forge(uint32_t portid, uint32_t first, uint32_t last)
{
    alopex::Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
    REQUIRE(fd);
    sockaddr_nl me{};
    me.nl_family = AF_NETLINK;
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr *>(&me), sizeof me) == 0);
    sockaddr_nl dst{};
    dst.nl_family = AF_NETLINK;
    dst.nl_pid = portid;
    std::vector<uint8_t> b;
    for (uint32_t seq = first;; ++seq) {
        put(b, NLMSG_ERROR, NLM_F_CAPPED, seq, portid, EPERM);
        put(b, NLMSG_DONE, NLM_F_MULTI, seq, portid, 0);
        if (seq == last || b.size() > 100 * 36) {
            REQUIRE(::sendto(fd.get(), b.data(), b.size(), 0, reinterpret_cast<sockaddr *>(&dst), sizeof dst) ==
                    ssize_t(b.size()));
            b.clear();
        }
        if (seq == last)
            break;
    }
}

} // namespace

TEST_CASE("answers from another socket than the kernel's are ignored", "[kernel]")
{
    fresh();
    const std::string foreign_before = foreign();
    auto s = open_session();
    // The first apply dumps (seq 0..) and sends a batch after them: every number it can
    // use is covered by a fake refusal and a fake end of dump.
    forge(s->portid(), 0, 2000);
    apply_ok(*s, version1());
    auto j = list_table();
    CHECK(count(j, "chain") == 3);
    CHECK(count(j, "rule", "input") == 4);
    // An element batch (no dump) and a counter dump after another flood.
    forge(s->portid(), 0, 4000);
    std::vector<ElementOp> ops = {op(ElementOp::Kind::add, "addr4", cidr4(203, 0, 113, 9, 32))};
    REQUIRE(s->apply(ops));
    CHECK(nft_has("set inet alopex addr4", "203.0.113.9"));
    auto counters = s->counters();
    REQUIRE(counters);
    CHECK(counters->contains("c_ssh"));
    auto t = s->table();
    REQUIRE(t);
    CHECK(t->exists);
    CHECK(foreign() == foreign_before);
}
