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
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "alopex/fd.hpp"
#include "alopex/netlink/socket.hpp"
#include "alopex/netlink/types.hpp"
#include "alopex/sd.hpp"
#include "hook.hpp"
#include "portagent1_client.hpp"

using namespace alopex;

namespace {

// Every link of the namespace the socket was opened in.
Result<std::vector<netlink::Link>> dump_links()
{
    ALOPEX_TRY(sock, netlink::open_route_socket());
    std::vector<std::byte> buf(1 << 16);
    auto *nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = 1;
    auto *ifm = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    if (mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len) < 0)
        return failf(errno, "rtnetlink: {}", strerror(errno));
    std::vector<netlink::Link> out;
    for (;;) {
        ALOPEX_TRY(d, netlink::receive_from_kernel(mnl_socket_get_fd(sock.get()), buf));
        if (d.status != netlink::Datagram::Status::Data)
            continue;
        size_t len = d.size;
        for (auto *m = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(m, static_cast<int>(len));
             m = mnl_nlmsg_next(m, reinterpret_cast<int *>(&len))) {
            if (m->nlmsg_type == NLMSG_DONE)
                return out;
            if (m->nlmsg_type == NLMSG_ERROR)
                return failf(EIO, "rtnetlink: the link dump failed");
            ALOPEX_TRY(msg, netlink::parse_message(m, m->nlmsg_len));
            if (msg && std::holds_alternative<netlink::Link>(msg->object))
                out.push_back(std::get<netlink::Link>(msg->object));
        }
    }
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
    auto links = dump_links();
    if (setns(host.get(), CLONE_NEWNET) < 0)
        return failf(errno, "back to the host's network namespace: {}", strerror(errno));
    if (!links)
        return std::unexpected(links.error());
    std::vector<std::string> out;
    for (const auto &l : *links) {
        char name[IF_NAMESIZE] = {};
        if (l.kind == "veth" && l.link_netns && l.link > 0 && if_indextoname(static_cast<unsigned>(l.link), name))
            out.emplace_back(name);
    }
    return out;
}

Result<std::vector<std::string>> links_to_attach(const ovs_hook::Invocation &inv)
{
    if (inv.kind == ovs_hook::Invocation::Kind::proxmox) {
        ALOPEX_TRY(links, dump_links());
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
