// SPDX-License-Identifier: GPL-2.0-or-later
// Per-link DNS at run time (org.alopex.Link1.Manager.SetDNS/RevertDNS), as resolvectl's
// dns and domain verbs: what SetDNS gives a link replaces its profile's or its DHCP
// lease's servers and domains until RevertDNS or until the link goes. It lives in memory
// (a restart of linkd forgets it, as a restart of resolved does); a checkpoint captures it
// (runtime_dns_participant), so that a rollback, e.g. of ovs-agentd's MigrateUplink that
// moved a NIC's DNS to the bridge's internal interface, puts it back.
#include <algorithm>

#include <fmt/ranges.h>

#include "alopex/ipc/link1.hpp"
#include "alopex/log.hpp"
#include "checkpoint.hpp"
#include "manager.hpp"

namespace alopex::linkd {

namespace {

constexpr size_t max_servers = 64, max_domains = 256;

// The servers as addresses in canonical text, the domains without their trailing dot;
// duplicates dropped, order kept. The error names the argument.
Result<Manager::Dns> check_dns(const std::vector<std::string> &servers, const std::vector<std::string> &domains)
{
    Manager::Dns out;
    if (servers.size() > max_servers)
        return bus_fail(bus_error::InvalidArgument, "servers: at most {} servers, not {}", max_servers,
                        servers.size());
    if (domains.size() > max_domains)
        return bus_fail(bus_error::InvalidArgument, "domains: at most {} domains, not {}", max_domains,
                        domains.size());
    for (const auto &text : servers) {
        auto a = net::Address::parse(text, "servers");
        if (!a)
            return std::unexpected(Error{EINVAL, a.error().message, bus_error::InvalidArgument});
        std::string canonical = a->to_string();
        if (std::find(out.servers.begin(), out.servers.end(), canonical) == out.servers.end())
            out.servers.push_back(std::move(canonical));
    }
    for (const auto &d : domains) {
        if (!net::valid_domain(d))
            return bus_fail(bus_error::InvalidArgument, "domains: {} is not a valid domain name", net::quoted(d));
        std::string name = d.ends_with('.') ? d.substr(0, d.size() - 1) : d;
        if (std::find(out.domains.begin(), out.domains.end(), name) == out.domains.end())
            out.domains.push_back(std::move(name));
    }
    return out;
}

} // namespace

void Manager::publish_dns(int ifindex)
{
    auto it = links_.find(ifindex);
    if (it == links_.end())
        return;
    Dns dns;
    if (auto r = runtime_dns_.find(ifindex); r != runtime_dns_.end())
        dns = r->second;
    else if (auto l = learned_dns_.find(ifindex); l != learned_dns_.end())
        dns = l->second;
    auto changed = it->second->set_dns(std::move(dns.servers), std::move(dns.domains));
    if (!changed.empty()) {
        link_properties_changed(ifindex, changed);
        bump();
    }
}

bool Manager::set_runtime_dns(int ifindex, std::optional<Dns> dns)
{
    if (!links_.contains(ifindex))
        return false;
    if (dns)
        runtime_dns_[ifindex] = std::move(*dns);
    else
        runtime_dns_.erase(ifindex);
    publish_dns(ifindex);
    return true;
}

Participant Manager::runtime_dns_participant()
{
    return {"run-time DNS", [this] {
                auto saved = runtime_dns_;
                return std::function<void()>([this, saved] {
                    if (saved == runtime_dns_)
                        return;
                    std::vector<int> touched;
                    for (const auto &[ifindex, _] : runtime_dns_)
                        touched.push_back(ifindex);
                    for (const auto &[ifindex, _] : saved)
                        touched.push_back(ifindex);
                    runtime_dns_.clear();
                    for (const auto &[ifindex, dns] : saved)
                        if (links_.contains(ifindex))
                            runtime_dns_.emplace(ifindex, dns);
                    for (int ifindex : touched)
                        publish_dns(ifindex);
                    log::notice("checkpoint rollback: the run-time DNS of every link (SetDNS) is as it was");
                });
            }};
}

void Manager::bus_set_dns(bus::Call &c, int32_t ifindex, std::vector<std::string> servers,
                          std::vector<std::string> domains)
{
    auto l = require_link(ifindex);
    if (!c.ok(l))
        return;
    auto dns = check_dns(servers, domains);
    if (!c.ok(dns) || !c.authorize(ipc::link1::polkit_action))
        return;
    log::info({{"ALOPEX_LINK", (*l)->kernel().name}}, "DNS of {} set at run time: servers [{}], domains [{}]",
              (*l)->kernel().name, fmt::join(dns->servers, " "), fmt::join(dns->domains, " "));
    set_runtime_dns(ifindex, std::move(*dns));
    audit(c);
    c.reply();
}

void Manager::bus_revert_dns(bus::Call &c, int32_t ifindex)
{
    auto l = require_link(ifindex);
    if (!c.ok(l) || !c.authorize(ipc::link1::polkit_action))
        return;
    log::info({{"ALOPEX_LINK", (*l)->kernel().name}}, "DNS of {}: the run-time servers and domains dropped",
              (*l)->kernel().name);
    set_runtime_dns(ifindex, std::nullopt);
    audit(c);
    c.reply();
}

} // namespace alopex::linkd
