// SPDX-License-Identifier: GPL-2.0-or-later
// Test driver: runs the DHCP Runner on one link and reports what happens as JSON lines on
// stdout ({"event":"bound",...}, {"event":"lost",...}, {"event":"state",...},
// {"event":"persist",...}). Commands on stdin, one per line: renew, release, quit.
// Usage: test-linkd-dhcp-driver IFNAME LEASE_FILE
#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "alopex/log.hpp"
#include "alopex/sd.hpp"
#include "io.hpp"

using namespace alopex;
using namespace alopex::dhcp;

namespace {

std::string ips(const std::vector<Ipv4> &v)
{
    std::string s;
    for (Ipv4 a : v)
        s += fmt::format("{}\"{}\"", s.empty() ? "" : ",", ip_to_string(a));
    return "[" + s + "]";
}

std::string lease_json(const Lease &l)
{
    std::string routes;
    for (const Route &r : l.effective_routes())
        routes += fmt::format("{}{{\"dst\":\"{}/{}\",\"gateway\":\"{}\"}}", routes.empty() ? "" : ",",
                              ip_to_string(r.dest), r.prefixlen, ip_to_string(r.gateway));
    return fmt::format("\"address\":\"{}\",\"prefixlen\":{},\"routers\":{},\"dns\":{},"
                       "\"domain\":\"{}\",\"mtu\":{},\"routes\":[{}],\"server\":\"{}\","
                       "\"lease\":{},\"t1\":{},\"t2\":{}",
                       ip_to_string(l.address), l.prefixlen, ips(l.routers), ips(l.dns), l.domain,
                       l.mtu ? int(*l.mtu) : 0, routes, ip_to_string(l.server_id), l.lease_s,
                       l.t1_s, l.t2_s);
}

void emit(const std::string &line)
{
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

struct Driver {
    std::unique_ptr<Runner> runner;
    std::string input;
    sd_event *event = nullptr;
};

int on_stdin(sd_event_source *, int fd, uint32_t, void *userdata)
{
    auto *d = static_cast<Driver *>(userdata);
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
        sd_event_exit(d->event, 0);
        return 0;
    }
    d->input.append(buf, size_t(n));
    size_t nl;
    while ((nl = d->input.find('\n')) != std::string::npos) {
        std::string cmd = d->input.substr(0, nl);
        d->input.erase(0, nl + 1);
        if (cmd == "renew")
            d->runner->renew();
        else if (cmd == "release")
            d->runner->release();
        else if (cmd == "quit")
            sd_event_exit(d->event, 0);
        emit(fmt::format("{{\"event\":\"done\",\"command\":\"{}\",\"state\":\"{}\"}}", cmd,
                         to_string(d->runner->client().state())));
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    log::init("dhcp-driver");
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s IFNAME LEASE_FILE\n", argv[0]);
        return 2;
    }
    int ifindex = int(if_nametoindex(argv[1]));
    if (ifindex <= 0) {
        std::fprintf(stderr, "no such interface %s\n", argv[1]);
        return 1;
    }
    sd_event *e = nullptr;
    if (sd_event_new(&e) < 0)
        return 1;
    EventPtr event(e);
    Driver d;
    d.event = e;
    Runner::Callbacks cb;
    cb.on_bound = [](const Lease &l, bool renewed) {
        emit(fmt::format("{{\"event\":\"bound\",\"renewed\":{},{}}}", renewed, lease_json(l)));
    };
    cb.on_lost = [](const Lease &l) {
        emit(fmt::format("{{\"event\":\"lost\",{}}}", lease_json(l)));
    };
    cb.on_persist = [](const Lease *l) {
        emit(fmt::format("{{\"event\":\"persist\",\"present\":{}}}", l != nullptr));
    };
    cb.on_state = [](State from, State to) {
        emit(fmt::format("{{\"event\":\"state\",\"from\":\"{}\",\"to\":\"{}\"}}", to_string(from),
                         to_string(to)));
    };
    Runner::Config cfg;
    cfg.ifindex = ifindex;
    cfg.hostname = "alopex-test";
    cfg.lease_file = argv[2];
    auto r = Runner::create(e, std::move(cfg), std::move(cb));
    if (!r) {
        std::fprintf(stderr, "runner: %s\n", r.error().message.c_str());
        return 1;
    }
    d.runner = std::move(*r);
    sd_event_source *s = nullptr;
    if (sd_event_add_io(e, &s, STDIN_FILENO, EPOLLIN, on_stdin, &d) < 0)
        return 1;
    EventSourcePtr in(s);
    d.runner->start();
    emit("{\"event\":\"started\"}");
    int rc = sd_event_loop(e);
    in.reset();
    d.runner.reset();
    return rc < 0 ? 1 : 0;
}
