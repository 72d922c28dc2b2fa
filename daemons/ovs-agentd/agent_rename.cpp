// SPDX-License-Identifier: GPL-2.0-or-later
// enable_rename (agent.hpp): an LXC container's veth<vmid>i<n> is named by
// naming_template before it is attached.
#include <charconv>

#include "agent.hpp"
#include "alopex/log.hpp"
#include "alopex/net.hpp"
#include "naming.hpp"
#include "port_ops.hpp"

namespace alopex::ovs {

namespace {

constexpr uint64_t command_timeout = 2'000'000;

// <n> of veth<vmid>i<n>.
unsigned interface_index(const std::string &name)
{
    unsigned n = 0;
    auto i = name.rfind('i');
    const char *b = name.data() + i + 1, *e = name.data() + name.size();
    auto [end, ec] = std::from_chars(b, e, n);
    return ec == std::errc() && end == e ? n : 0;
}

} // namespace

// Takes out of the plan the links to rename first (and those being renamed).
void Agent::hold_for_rename(Plan &p)
{
    std::vector<PortSpec> keep;
    for (auto &spec : p.attach) {
        bool lxc = spec.name.starts_with("veth") && spec.vmid;
        if (renaming_.contains(spec.name)) {
            continue;
        } else if (!lxc || keep_name_.contains(spec.name) || requests_.attach.contains(spec.name)) {
            keep.push_back(std::move(spec));
        } else {
            start_rename(spec);
        }
    }
    p.attach = std::move(keep);
}

void Agent::start_rename(const PortSpec &spec)
{
    renaming_.insert(spec.name);
    const auto &cmd = config_.settings.container_name_cmd;
    std::string vmid = std::to_string(*spec.vmid);
    if (cmd.empty()) {
        rename_as(spec, vmid);
        return;
    }
    auto c = Command::start(event_, fill_command(cmd, spec.name, vmid), command_timeout,
                            [this, spec, vmid](Result<std::string> out) {
                                auto node = commands_.extract(spec.name);   // destroyed at the end of this call
                                std::string container = vmid;
                                if (!out)
                                    log::warning("container_name_cmd for {}: {}; the VMID names it", spec.name,
                                                 out.error().message);
                                else if (!valid_container_name(*out))
                                    log::warning("container_name_cmd for {} printed {}, not a container name "
                                                 "(1 to 64 of [A-Za-z0-9_.:@-]); the VMID names it",
                                                 spec.name, net::quoted(*out));
                                else
                                    container = *out;
                                rename_as(spec, container);
                            });
    if (!c) {
        log::warning("container_name_cmd for {}: {}; the VMID names it", spec.name, c.error().message);
        rename_as(spec, vmid);
        return;
    }
    commands_.insert_or_assign(spec.name, std::move(*c));
}

void Agent::rename_as(const PortSpec &spec, const std::string &container)
{
    std::string to = render_name(config_.settings.naming_template, container, interface_index(spec.name));
    int ifindex = ifindex_of(spec.name);
    bool taken = to != spec.name && ifindex_of(to) != 0;
    if (const ovsdb::Replica *r = replica(); r && !taken)
        for (const auto &[uuid, row] : r->rows("Interface"))
            taken = taken || (name_of(row) == to && to != spec.name);
    if (to == spec.name || taken || !ifindex) {
        if (taken)
            log::warning("{}: naming_template gives {}, which is taken; attached as it is named", spec.name, to);
        renaming_.erase(spec.name);
        keep_name_.insert(spec.name);
        schedule();
        return;
    }
    // Asked for before the rename, so the link is attached with its container whenever
    // the kernel's event of the new name comes (it can come before linkd's reply).
    PortSpec next = spec;
    next.name = to;
    next.container = container;
    requests_.attach.insert_or_assign(to, std::move(next));
    events_.rename(ifindex, spec.name, to, [this, spec, to, container](Result<> r) {
        renaming_.erase(spec.name);
        if (!r) {
            log::warning("renaming {} to {}: {}; attached as it is named", spec.name, to, r.error().message);
            requests_.attach.erase(to);
            keep_name_.insert(spec.name);
        } else {
            log::info("renamed {} to {} (container {})", spec.name, to, container);
        }
        schedule();
    });
}

} // namespace alopex::ovs
