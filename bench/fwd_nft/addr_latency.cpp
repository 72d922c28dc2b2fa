// SPDX-License-Identifier: GPL-2.0-or-later
// bench-fwd-addr-latency: the timing half of bench/fwd_nft/bench_addr.py. It adds and
// removes IPv4 /32 addresses on a link itself (rtnetlink, one at a time) and times each
// from the kernel's address event to the nf_tables commit notification of the matching
// set element (NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM for FAMILY TABLE SET, key = the
// address). The event is made by its own request, and the clock is read before that
// sendto(): rtnetlink multicasts the event inside the call but does more work for the
// change afterwards (routes, notifiers), so a fast reactor commits before the call
// returns. The latency is thus an upper bound including the kernel's own time for the
// change (printed as sendto_p50_us). The event is also received on an event socket, as a
// check that it happened. Whoever keeps the set in step with the link (alopex-fwd, a
// shell loop around `ip monitor` + `nft`) is measured the same way.
//
//   bench-fwd-addr-latency --dev IF --table T --set S [--family inet|ip] [--count N]
//                          [--prefix A.B] [--timeout S] [--gap-ms MS]
//
// --gap-ms: idle time after each change (default 0: back to back), so that each change
// meets a reactor that has finished with the previous one.
//
// The commit time is the kernel's receive timestamp (SO_TIMESTAMPNS) when the socket
// gives one, else the clock at recvmsg() (netlink sockets give none: `ts=user`). Prints
// one line of key=value (microseconds):
//   n=.. add_p50_us=.. add_p99_us=.. add_max_us=.. del_p50_us=.. del_p99_us=.. del_max_us=..
//   sendto_p50_us=.. ts=kernel|user
// and a second line `add_us=v,v,...` with every add latency. Exit 1 with a message on
// failure (an element that never came within --timeout, a refused address change).
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace {

[[noreturn]] void die(const std::string &msg)
{
    fmt::print(stderr, "bench-fwd-addr-latency: {}\n", msg);
    std::exit(1);
}

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Options {
    std::string dev, table, set, family = "inet", prefix = "10.77";
    size_t count = 1000;
    double timeout = 5, gap_ms = 0;
};

Options parse(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc)
                die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--dev") o.dev = val();
        else if (a == "--table") o.table = val();
        else if (a == "--set") o.set = val();
        else if (a == "--family") o.family = val();
        else if (a == "--prefix") o.prefix = val();
        else if (a == "--count") o.count = std::strtoul(val().c_str(), nullptr, 10);
        else if (a == "--timeout") o.timeout = std::strtod(val().c_str(), nullptr);
        else if (a == "--gap-ms") o.gap_ms = std::strtod(val().c_str(), nullptr);
        else die("unknown argument " + a);
    }
    if (o.dev.empty() || o.table.empty() || o.set.empty() || o.count == 0)
        die("usage: --dev IF --table T --set S [--family inet|ip] [--count N] [--prefix A.B] [--timeout S] [--gap-ms MS]");
    return o;
}

struct MnlDel { void operator()(mnl_socket *s) const { if (s) mnl_socket_close(s); } };
using Mnl = std::unique_ptr<mnl_socket, MnlDel>;
struct SetDel { void operator()(nftnl_set *s) const { if (s) nftnl_set_free(s); } };

Mnl open_socket(int bus, unsigned groups, bool timestamps)
{
    Mnl nl(mnl_socket_open2(bus, SOCK_CLOEXEC));
    if (!nl || mnl_socket_bind(nl.get(), groups, MNL_SOCKET_AUTOPID) < 0)
        die(fmt::format("netlink socket {}: {}", bus, std::strerror(errno)));
    int fd = mnl_socket_get_fd(nl.get()), size = 16 << 20, one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    if (timestamps)
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    return nl;
}

// One datagram and its timestamp (kernel's when given); false when nothing is queued.
bool receive(mnl_socket *nl, std::vector<char> &buf, ssize_t &len, int64_t &ts, bool &kernel_ts)
{
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[256];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    len = recvmsg(mnl_socket_get_fd(nl), &msg, MSG_DONTWAIT);
    if (len < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return false;
        die(fmt::format("recvmsg: {}", std::strerror(errno)));
    }
    ts = now_ns();
    kernel_ts = false;
    for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
            timespec t{};
            std::memcpy(&t, CMSG_DATA(c), sizeof t);
            ts = int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
            kernel_ts = true;
        }
    return true;
}

struct Waiting {
    bool add = true;
    uint32_t addr = 0;                   // network order
    int64_t t_addr = 0, t_elem = 0;      // 0 = not seen yet
};

struct Ctx {
    const Options *o;
    int ifindex = 0;
    uint8_t nfproto = NFPROTO_INET;
    Waiting w;
    bool kernel_ts = true;
};

void on_rtnl(const std::vector<char> &buf, ssize_t len, int64_t ts, Ctx &c)
{
    int rem = int(len);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, rem);
         nlh = mnl_nlmsg_next(nlh, &rem)) {
        if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
            continue;
        if ((nlh->nlmsg_type == RTM_NEWADDR) != c.w.add)
            continue;
        auto *ifa = static_cast<const ifaddrmsg *>(mnl_nlmsg_get_payload(nlh));
        if (ifa->ifa_family != AF_INET || int(ifa->ifa_index) != c.ifindex)
            continue;
        struct Match { uint32_t addr; bool hit = false; } m{c.w.addr};
        mnl_attr_parse(nlh, sizeof *ifa, [](const nlattr *attr, void *data) -> int {
            auto *mm = static_cast<Match *>(data);
            if (mnl_attr_get_type(attr) == IFA_LOCAL && mnl_attr_get_payload_len(attr) == 4 &&
                std::memcmp(mnl_attr_get_payload(attr), &mm->addr, 4) == 0)
                mm->hit = true;
            return MNL_CB_OK;
        }, &m);
        if (m.hit && !c.w.t_addr)
            c.w.t_addr = ts;
    }
}

void on_nft(const std::vector<char> &buf, ssize_t len, int64_t ts, Ctx &c)
{
    int want = c.w.add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM;
    int rem = int(len);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, rem);
         nlh = mnl_nlmsg_next(nlh, &rem)) {
        if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES || NFNL_MSG_TYPE(nlh->nlmsg_type) != want)
            continue;
        auto *nfg = static_cast<const nfgenmsg *>(mnl_nlmsg_get_payload(nlh));
        if (nfg->nfgen_family != c.nfproto)
            continue;
        std::unique_ptr<nftnl_set, SetDel> s(nftnl_set_alloc());
        if (nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0)
            continue;
        const char *table = nftnl_set_get_str(s.get(), NFTNL_SET_TABLE);
        const char *name = nftnl_set_get_str(s.get(), NFTNL_SET_NAME);
        if (!table || !name || c.o->table != table || c.o->set != name)
            continue;
        auto *it = nftnl_set_elems_iter_create(s.get());
        for (auto *e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
            uint32_t klen = 0, flags = 0;
            const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
            if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
                flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
            if (key && klen >= 4 && !(flags & NFT_SET_ELEM_INTERVAL_END) &&
                std::memcmp(key, &c.w.addr, 4) == 0 && !c.w.t_elem)
                c.w.t_elem = ts;
        }
        nftnl_set_elems_iter_destroy(it);
    }
}

void request(mnl_socket *nl, bool add, int ifindex, uint32_t addr, uint32_t seq)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    auto *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    nlh->nlmsg_seq = seq;
    auto *ifa = static_cast<ifaddrmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = 32;
    ifa->ifa_index = unsigned(ifindex);
    mnl_attr_put(nlh, IFA_LOCAL, 4, &addr);
    mnl_attr_put(nlh, IFA_ADDRESS, 4, &addr);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        die(fmt::format("sendto: {}", std::strerror(errno)));
}

void check_ack(const std::vector<char> &buf, ssize_t len, const std::string &what)
{
    int rem = int(len);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, rem);
         nlh = mnl_nlmsg_next(nlh, &rem))
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
            if (err->error)
                die(fmt::format("{}: {}", what, std::strerror(-err->error)));
        }
}

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    size_t i = size_t(p * double(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

} // namespace

int main(int argc, char **argv)
{
    Options o = parse(argc, argv);
    Ctx c;
    c.o = &o;
    c.ifindex = int(if_nametoindex(o.dev.c_str()));
    if (!c.ifindex)
        die("no link " + o.dev);
    c.nfproto = o.family == "ip" ? NFPROTO_IPV4 : o.family == "ip6" ? NFPROTO_IPV6 : NFPROTO_INET;

    Mnl rt_ev = open_socket(NETLINK_ROUTE, RTMGRP_IPV4_IFADDR, true);
    Mnl nft_ev = open_socket(NETLINK_NETFILTER, 0, true);
    int grp = NFNLGRP_NFTABLES;
    if (mnl_socket_setsockopt(nft_ev.get(), NETLINK_ADD_MEMBERSHIP, &grp, sizeof grp) < 0)
        die(fmt::format("NFNLGRP_NFTABLES: {}", std::strerror(errno)));
    Mnl req = open_socket(NETLINK_ROUTE, 0, false);

    unsigned a = 0, b = 0;
    if (std::sscanf(o.prefix.c_str(), "%u.%u", &a, &b) != 2 || a > 255 || b > 255)
        die("--prefix wants A.B");
    std::vector<char> buf(1 << 20);
    std::vector<double> adds, dels, sendtos;
    uint32_t seq = 1;
    for (size_t i = 0; i < o.count * 2; ++i) {
        size_t k = i / 2;
        c.w = Waiting{i % 2 == 0, htonl((a << 24) | (b << 16) | uint32_t((k / 250) << 8) | uint32_t(k % 250 + 1)), 0, 0};
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &c.w.addr, text, sizeof text);
        std::string what = fmt::format("{} {}", c.w.add ? "add" : "del", text);
        // rtnetlink handles the request inside sendto(): the event is multicast during the
        // call, before the kernel's remaining work for the change (routes, notifiers), so
        // a reactor on the other CPU may commit before sendto() returns. The clock is read
        // before the call: an upper bound of the latency that includes the kernel's own
        // time to apply the change (`sendto_p50_us` tells how long that is).
        const int64_t t_event = now_ns();
        request(req.get(), c.w.add, c.ifindex, c.w.addr, seq++);
        sendtos.push_back(double(now_ns() - t_event) / 1000.0);
        int64_t deadline = now_ns() + int64_t(o.timeout * 1e9);
        while (!c.w.t_addr || !c.w.t_elem) {
            int64_t left = deadline - now_ns();
            if (left <= 0)
                die(fmt::format("{}: {} within {} s", what,
                                !c.w.t_addr ? "no address event" : "no element " + o.table + " " + o.set,
                                o.timeout));
            pollfd fds[3] = {{mnl_socket_get_fd(rt_ev.get()), POLLIN, 0},
                             {mnl_socket_get_fd(nft_ev.get()), POLLIN, 0},
                             {mnl_socket_get_fd(req.get()), POLLIN, 0}};
            if (poll(fds, 3, int(left / 1'000'000) + 1) < 0 && errno != EINTR)
                die(fmt::format("poll: {}", std::strerror(errno)));
            ssize_t len = 0;
            int64_t ts = 0;
            bool kts = false;
            while (receive(rt_ev.get(), buf, len, ts, kts)) {
                c.kernel_ts &= kts;
                on_rtnl(buf, len, ts, c);
            }
            while (receive(nft_ev.get(), buf, len, ts, kts)) {
                c.kernel_ts &= kts;
                on_nft(buf, len, ts, c);
            }
            while (receive(req.get(), buf, len, ts, kts))
                check_ack(buf, len, what);
        }
        double us = double(c.w.t_elem - t_event) / 1000.0;
        (c.w.add ? adds : dels).push_back(us);
        if (o.gap_ms > 0) {   // let the reactor go idle: each change an isolated event
            timespec gap{time_t(o.gap_ms / 1000), long(std::fmod(o.gap_ms, 1000.0) * 1e6)};
            nanosleep(&gap, nullptr);
        }
    }
    fmt::print("n={} add_p50_us={:.1f} add_p99_us={:.1f} add_max_us={:.1f} del_p50_us={:.1f} "
               "del_p99_us={:.1f} del_max_us={:.1f} sendto_p50_us={:.1f} ts={}\n",
               adds.size(), percentile(adds, 0.5), percentile(adds, 0.99), percentile(adds, 1.0),
               percentile(dels, 0.5), percentile(dels, 0.99), percentile(dels, 1.0),
               percentile(sendtos, 0.5), c.kernel_ts ? "kernel" : "user");
    std::string all;
    for (double v : adds)
        all += fmt::format("{}{:.1f}", all.empty() ? "" : ",", v);
    fmt::print("add_us={}\n", all);
    return 0;
}
