// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-ovs-hook: attaches a guest's interfaces through alopex-ovs-agentd
// (org.alopex.PortAgent1.AttachPorts) and waits until they have ofports, so that the
// guest has its network when the hook returns. As a Proxmox hookscript ("VMID PHASE"):
// post-start attaches veth<vmid>i<n>, tap<vmid>i<n> and vi<vmid>[_k]; the other phases
// have nothing to do. As an OCI hook ("oci", the state on stdin): the host ends of the
// container's veths (read from its network namespace) are attached. See
// alopex-ovs-hook(8).
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "alopex/fd.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/sd.hpp"
#include "hook.hpp"
#include "portagent1_client.hpp"

using namespace alopex;

namespace {

// The links of a network namespace, read by the suite's rtnetlink monitor: its sockets
// belong to the namespace the thread is in when it is opened (open_links()); the dump is
// then read on a loop of its own (read_links()), wherever the thread is by then.
struct LinkReader {
    EventPtr event;
    std::unique_ptr<netlink::Monitor> monitor;
    bool synced = false;
};

Result<std::unique_ptr<LinkReader>> open_links()
{
    auto r = std::make_unique<LinkReader>();
    sd_event *raw = nullptr;
    if (int e = sd_event_new(&raw); e < 0)
        return failf(-e, "sd-event: {}", strerror(-e));
    r->event.reset(raw);
    netlink::MonitorOptions mo;
    mo.ipv4_addresses = mo.ipv6_addresses = mo.ipv4_routes = mo.ipv6_routes = false;
    netlink::MonitorCallbacks cb;
    cb.on_synced = [p = r.get()](bool) { p->synced = true; };
    ALOPEX_TRY(m, netlink::Monitor::create(raw, mo, std::move(cb)));
    r->monitor = std::move(m);
    return r;
}

Result<std::vector<netlink::Link>> read_links(LinkReader &r)
{
    for (int i = 0; !r.synced; ++i)
        if (int e = sd_event_run(r.event.get(), 1'000'000); e < 0 || i >= 10)
            return failf(e < 0 ? -e : ETIMEDOUT, "reading the links: {}", e < 0 ? strerror(-e) : "no answer in 10 s");
    std::vector<netlink::Link> out;
    for (const auto &[index, link] : r.monitor->state().links)
        out.push_back(link);
    return out;
}

// The host ends of the veths in process `pid`'s network namespace.
Result<std::vector<std::string>> container_veth_peers(int pid)
{
    Fd host(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    Fd theirs(open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC));
    if (!host || !theirs)
        return failf(errno, "the network namespace of pid {}: {}", pid, strerror(errno));
    if (setns(theirs.get(), CLONE_NEWNET) < 0)
        return failf(errno, "entering the network namespace of pid {}: {}", pid, strerror(errno));
    auto reader = open_links();
    if (setns(host.get(), CLONE_NEWNET) < 0)
        return failf(errno, "back to the host's network namespace: {}", strerror(errno));
    if (!reader)
        return std::unexpected(reader.error());
    ALOPEX_TRY(links, read_links(**reader));
    std::vector<std::string> out;
    for (const auto &l : links) {
        char name[IF_NAMESIZE] = {};
        if (l.kind == "veth" && l.link_netns && l.link > 0 && if_indextoname(static_cast<unsigned>(l.link), name))
            out.emplace_back(name);
    }
    return out;
}

Result<std::vector<std::string>> links_to_attach(const ovs_hook::Invocation &inv)
{
    if (inv.kind == ovs_hook::Invocation::Kind::proxmox) {
        ALOPEX_TRY(reader, open_links());
        ALOPEX_TRY(links, read_links(*reader));
        std::vector<std::string> names;
        for (const auto &l : links)
            names.push_back(l.name);
        return ovs_hook::guest_links(inv.vmid, names);
    }
    std::string input;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0 && input.size() <= (1u << 20))
        input.append(buf, n);
    ALOPEX_TRY(state, ovs_hook::parse_oci_state(input));
    if (state.status == "stopped")
        return std::vector<std::string>{};
    return container_veth_peers(state.pid);
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto inv = ovs_hook::parse_command_line(args);
    if (!inv) {
        fmt::print(stderr, "alopex-ovs-hook: {}\n", inv.error().message);
        return 2;
    }
    if (!inv->attach)
        return 0;   // pre-start, pre-stop, post-stop: the agent follows the links by itself
    auto names = links_to_attach(*inv);
    if (!names) {
        fmt::print(stderr, "alopex-ovs-hook: {}\n", names.error().message);
        return 1;
    }
    if (names->empty()) {
        fmt::print(stderr, "alopex-ovs-hook: no interfaces to attach\n");
        return 0;
    }
    sd_bus *raw = nullptr;
    if (int r = sd_bus_open_system(&raw); r < 0) {
        fmt::print(stderr, "alopex-ovs-hook: the system bus: {}\n", strerror(-r));
        return 1;
    }
    BusPtr bus(raw);
    auto res = ipc::portagent1::attach_ports(bus.get(), *names);
    if (!res) {
        fmt::print(stderr, "alopex-ovs-hook: alopex-ovs-agentd: {}\n", res.error().message);
        return 1;
    }
    int rc = 0;
    for (const auto &r : *res) {
        if (r.error.empty()) {
            fmt::print("{} ofport {}\n", r.name, r.ofport);
        } else {
            fmt::print(stderr, "alopex-ovs-hook: {}: {}\n", r.name, r.error);
            rc = 1;
        }
    }
    return rc;
}
