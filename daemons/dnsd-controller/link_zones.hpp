// SPDX-License-Identifier: GPL-2.0-or-later
// Per-link DNS (linkd's DNSServers and DNSDomains of each link: a profile's, a DHCP
// lease's, SetDNS's) as unbound forward zones, the split DNS systemd-resolved does per
// link; pure. Each search domain of a link with servers becomes a forward zone to that
// link's servers (the same domain on two links: one zone, the lower ifindex's servers
// first). A link's servers without a domain are a default route only when dns.toml names
// no upstream: then "." forwards to them (the DHCP laptop case); with upstreams they
// stay unused, as resolved does for links that are not a default route. Zones are
// applied with forward_add / forward_remove on the control socket (plain DNS: per-zone
// TLS needs unbound 1.20).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace alopex::dns {

struct LinkDns {
    int ifindex = 0;
    std::vector<std::string> servers;   // addresses as linkd publishes them
    std::vector<std::string> domains;   // search domains without the trailing dot
};

// zone ("example.net", or "." for the default route) -> forward addresses, in order.
using ForwardZones = std::map<std::string, std::vector<std::string>>;

ForwardZones link_forward_zones(std::vector<LinkDns> links, bool have_upstreams);

// The control commands from `applied` to `desired`: "forward_remove ZONE" for zones gone,
// "forward_add ZONE ADDR..." for zones new or changed (forward_add replaces a zone).
std::vector<std::string> forward_commands(const ForwardZones &applied, const ForwardZones &desired);

} // namespace alopex::dns
