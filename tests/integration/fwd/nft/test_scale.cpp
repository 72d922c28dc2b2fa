// SPDX-License-Identifier: GPL-2.0-or-later
// Scale and atomicity: 100,000-element sets, 10,000 rules, and 1,000 full applies under
// a concurrent observer that must never see an empty or partial table.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <libmnl/libmnl.h>

#include "kit.hpp"
#include "nft/session.hpp"
#include "rulesets.hpp"
#include "shell.hpp"

using namespace alopex::fwd::nft;
using namespace alopex::fwd::nft::test;
using alopex::itest::capture;
using alopex::itest::sh;
using Clock = std::chrono::steady_clock;

TEST_CASE("100,000-element sets load in one batch", "[kernel]")
{
    fresh();
    const std::string foreign_before = foreign();
    Ruleset rs = observed(false);
    Set big;
    big.name = "big";
    big.key = {DataType::ipv4_addr};
    big.origin = "set big";
    Set bigiv = big;
    bigiv.name = "bigiv";
    bigiv.interval = true;
    for (uint32_t i = 0; i < 100000; ++i) {
        Element e;
        e.key = ip4(10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i));
        big.elements.push_back(e);
        uint32_t v = 2 * i;   // every other address: no two intervals touch
        e.key = ip4(11, uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v));
        bigiv.elements.push_back(e);
    }
    rs.sets.push_back(std::move(big));
    rs.sets.push_back(std::move(bigiv));
    auto s = open_session();
    auto t0 = Clock::now();
    apply_ok(*s, rs);
    auto first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    t0 = Clock::now();
    apply_ok(*s, rs);   // again: both sets flushed and refilled in one batch
    auto again = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    WARN(fmt::format("apply of 2 x 100,000 elements (hash + interval): first {:.0f} ms, "
                     "re-apply {:.0f} ms, {} messages",
                     first, again, s->last_stats().messages));
    auto j = nlohmann::json::parse(capture("nft -j list set inet alopex big"));
    CHECK(j.at("nftables").at(1).at("set").at("elem").size() == 100000);
    j = nlohmann::json::parse(capture("nft -j list set inet alopex bigiv"));
    CHECK(j.at("nftables").at(1).at("set").at("elem").size() == 100000);
    CHECK(foreign() == foreign_before);
}

TEST_CASE("10,000 rules apply in one batch, every one acked", "[kernel]")
{
    fresh();
    Ruleset rs = observed(false);
    rs.rules.clear();
    for (int i = 0; i < 10000; ++i) {
        Rule r;
        r.chain = "input";
        r.exprs = {Meta{NFT_META_L4PROTO, NFT_REG_1}, Cmp{NFT_REG_1, NFT_CMP_EQ, {6}},
                   Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1},
                   Cmp{NFT_REG_1, NFT_CMP_EQ, port(uint16_t(10000 + i))}, Counter{},
                   Verdict{NF_ACCEPT, {}}};
        r.origin = fmt::format("bulk rule {}", i);
        rs.rules.push_back(std::move(r));
    }
    auto s = open_session();
    auto t0 = Clock::now();
    apply_ok(*s, rs);
    auto first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    t0 = Clock::now();
    apply_ok(*s, rs);
    auto again = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    WARN(fmt::format("apply of 10,000 rules: first {:.0f} ms, re-apply {:.0f} ms, {} messages",
                     first, again, s->last_stats().messages));
    CHECK(count(list_table(), "rule") == 10000);
    // One bad rule among them: the error names it, nothing changes.
    rs.rules[7777].exprs.back() = Verdict{NFT_GOTO, "missing"};
    auto r = s->apply(rs);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "bulk rule 7777: No such file or directory");
    CHECK(count(list_table(), "rule") == 10000);
}

namespace {

// The ruleset's generation (NFT_MSG_GETGEN): it changes with every commit. 0 on error.
uint32_t generation()
{
    mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl)
        return 0;
    uint32_t gen = 0;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = 1;
    auto *nfg = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 && mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        auto *reply = reinterpret_cast<nlmsghdr *>(buf);
        if (n > 0 && mnl_nlmsg_ok(reply, int(n)) && (reply->nlmsg_type & 0xff) == NFT_MSG_NEWGEN) {
            auto *tail = static_cast<char *>(mnl_nlmsg_get_payload_tail(reply));
            for (auto *a = static_cast<nlattr *>(mnl_nlmsg_get_payload_offset(reply, sizeof(nfgenmsg)));
                 mnl_attr_ok(a, int(tail - reinterpret_cast<char *>(a))); a = mnl_attr_next(a))   // mnl_attr_for_each, typed
                if (mnl_attr_get_type(a) == NFTA_GEN_ID)
                    gen = ntohl(mnl_attr_get_u32(a));
        }
    }
    mnl_socket_close(nl);
    return gen;
}

// The observer (a child process): lists the table in a loop until `stop` reaches EOF,
// writing '.' per consistent listing and 'X' per empty, missing or partial one. `nft
// list` reads the table in several dumps; a listing torn by a commit between them (the
// generation changed while it ran) says nothing of what any commit left, so it is
// listed again ('~'); a partial listing of one generation is a partial table.
[[noreturn]] void observe(int stop, int report)
{
    for (;;) {
        pollfd p{stop, POLLIN, 0};
        if (poll(&p, 1, 0) > 0)
            _exit(0);
        char mark = 'X';
        uint32_t before = generation();
        try {
            auto j = list_table();
            size_t rules = count(j, "rule");
            size_t elems = elements(j, "obs").size();
            if ((rules == 3 && elems == 5) || (rules == 4 && elems == 7))
                mark = '.';
        } catch (...) {
        }
        if (mark == 'X' && (before == 0 || generation() != before))
            mark = '~';
        if (write(report, &mark, 1) != 1)
            _exit(1);
    }
}

} // namespace

TEST_CASE("1,000 full applies: an observer never sees an empty or partial table", "[kernel]")
{
    fresh();
    const std::string foreign_before = foreign();
    auto s = open_session();
    uint32_t gen = generation();
    apply_ok(*s, observed(false));
    CHECK(gen != 0);   // the observer's excuse for a torn listing rests on this
    CHECK(generation() != gen);
    int stop[2], report[2];
    REQUIRE(pipe2(stop, O_CLOEXEC) == 0);
    REQUIRE(pipe2(report, O_CLOEXEC) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(stop[1]);
        close(report[0]);
        observe(stop[0], report[1]);
    }
    close(stop[0]);
    close(report[1]);
    fcntl(report[0], F_SETFL, O_NONBLOCK);
    std::string marks;
    auto drain = [&] {
        char buf[256];
        ssize_t n;
        while ((n = read(report[0], buf, sizeof buf)) > 0)
            marks.append(buf, static_cast<size_t>(n));
    };
    auto t0 = Clock::now();
    int applies = 0;
    // 1,000 applies at least, and on until the observer has looked 200 times.
    auto deadline = Clock::now() + std::chrono::seconds(120);
    auto judged = [&] { return marks.size() - static_cast<size_t>(std::count(marks.begin(), marks.end(), '~')); };
    while ((applies < 1000 || judged() < 200) && Clock::now() < deadline) {
        auto r = s->apply(observed(applies % 2 == 0));
        REQUIRE(r);
        ++applies;
        drain();
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    close(stop[1]);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    fcntl(report[0], F_SETFL, 0);
    drain();
    close(report[0]);
    size_t bad = static_cast<size_t>(std::count(marks.begin(), marks.end(), 'X'));
    size_t torn = static_cast<size_t>(std::count(marks.begin(), marks.end(), '~'));
    WARN(fmt::format("{} full applies in {:.0f} ms ({:.2f} ms each); observer listed the table "
                     "{} times, {} inconsistent, {} torn by a commit during the listing",
                     applies, ms, ms / applies, marks.size(), bad, torn));
    CHECK(applies >= 1000);
    CHECK(marks.size() - torn >= 200);
    CHECK(bad == 0);
    CHECK(foreign() == foreign_before);
}
