// SPDX-License-Identifier: GPL-2.0-or-later
#include "ip_json.hpp"

#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include <catch2/catch.hpp>

namespace alopex::linkd::rtnl::itest {

json ip(const std::string &args)
{
    auto out = capture("ip -j " + args);
    return out.find_first_not_of(" \n") == std::string::npos ? json::array() : json::parse(out);
}

void require_private_netns()
{
    auto links = ip("link show");
    for (const auto &l : links) {
        auto name = l["ifname"].get<std::string>();
        if (name != "lo" && name.rfind("rt", 0) != 0)
            FAIL("not in a private network namespace (found " << name << "); run under unshare --net");
    }
    REQUIRE(sh("ip link set lo up"));
    for (const auto &l : links) {
        auto name = l["ifname"].get<std::string>();
        if (name.rfind("rt", 0) == 0)
            sh("ip link del " + name + " 2>/dev/null");
    }
    REQUIRE(sh("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.default.accept_ra=0 "
               "net.ipv6.conf.default.accept_dad=0"));
    REQUIRE(sh("ip route flush table 100 2>/dev/null; ip -6 route flush table 100 2>/dev/null; true"));
}

int ifindex(const std::string &name)
{
    auto all = ip("link show");
    for (const auto &l : all)
        if (l["ifname"] == name)
            return l["ifindex"].get<int>();
    return 0;
}

json link(const std::string &name)
{
    auto j = ip("-d link show dev " + name);
    REQUIRE(j.size() == 1);
    return j[0];
}

json addresses(const std::string &name)
{
    auto j = ip("addr show dev " + name);
    REQUIRE(j.size() == 1);
    return j[0].value("addr_info", json::array());
}

bool has_flag(const json &obj, const std::string &flag)
{
    if (!obj.contains("flags"))
        return false;
    for (const auto &f : obj["flags"])
        if (f == flag)
            return true;
    return false;
}

std::vector<Result<>> run(std::vector<Request> requests)
{
    // The daemon's client on a loop of the test's own, run until the answers are in (the
    // client's deadline bounds the wait).
    struct Loop {
        EventPtr event;
        std::unique_ptr<AsyncClient> client;
    };
    static Loop loop = [] {
        sd_event *e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        Loop l{EventPtr(e), nullptr};
        auto c = AsyncClient::open(e);
        INFO((c ? std::string() : c.error().message));
        REQUIRE(c);
        l.client = std::move(*c);
        return l;
    }();
    size_t count = requests.size();
    std::optional<Result<std::vector<Result<>>>> r;
    loop.client->submit(std::move(requests), [&r](Result<std::vector<Result<>>> got) { r = std::move(got); });
    while (!r)
        REQUIRE(sd_event_run(loop.event.get(), UINT64_MAX) >= 0);
    INFO((*r ? std::string() : r->error().message));
    REQUIRE(*r);
    REQUIRE((*r)->size() == count);
    return std::move(**r);
}

void ok(const Request &r)
{
    auto res = run({r});
    INFO(r.what << ": " << (res[0] ? std::string("ok") : res[0].error().message));
    REQUIRE(res[0]);
}

Request create(NetdevSpec n, std::string what)
{
    Request r;
    r.op = Request::Op::CreateNetdev;
    r.what = what.empty() ? "netdev " + n.name : std::move(what);
    r.netdev = std::move(n);
    return r;
}

Request set(LinkChange c, std::string what)
{
    Request r;
    r.op = Request::Op::SetLink;
    r.what = what.empty() ? fmt::format("link {}", c.ifindex) : std::move(what);
    r.link = std::move(c);
    return r;
}

Request addr(Request::Op op, AddressSpec a, std::string what)
{
    Request r;
    r.op = op;
    r.what = what.empty() ? fmt::format("address {}/{} on {}", a.address, a.prefixlen, a.ifindex) : std::move(what);
    r.address = std::move(a);
    return r;
}

Request route(Request::Op op, RouteSpec s, std::string what)
{
    Request r;
    r.op = op;
    r.what = what.empty() ? fmt::format("route {}/{}", s.dst, s.dst_len) : std::move(what);
    r.route = std::move(s);
    return r;
}

Request del_link(int ifindex, std::string what)
{
    Request r;
    r.op = Request::Op::DeleteLink;
    r.ifindex = ifindex;
    r.what = what.empty() ? fmt::format("link {}", ifindex) : std::move(what);
    return r;
}

} // namespace alopex::linkd::rtnl::itest
