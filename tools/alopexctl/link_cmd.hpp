// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl link ...`: parse (pure), format (pure), and call org.alopex.Link1.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "link1_client.hpp"

namespace alopexctl {

struct LinkRequest {
    enum class Op { list, show, up, down, set_mtu, set_zone, rename, addr_add, addr_del, route_add, route_del,
                    renew, release, reload };
    Op op = Op::list;
    std::string link;                    // name or index, as given
    uint32_t mtu = 0;
    std::string value;                   // zone, new name, address (CIDR)
    // Routes.
    std::string to, via;
    uint32_t metric = 0, table = 0;
};

// Words after "link". Errors name the offending word.
alopex::Result<LinkRequest> parse_link_args(std::span<const std::string_view> words);

// The link a name or decimal index refers to, or NoSuchLink naming it.
alopex::Result<alopex::ipc::link1::LinkInfo> find_link(const std::vector<alopex::ipc::link1::LinkInfo> &links,
                                                       std::string_view ref);

std::string format_links_table(const std::vector<alopex::ipc::link1::LinkInfo> &links);
std::string format_link_detail(const alopex::ipc::link1::LinkInfo &l);
std::string format_links_json(const std::vector<alopex::ipc::link1::LinkInfo> &links);

// `alopexctl checkpoint create SECONDS | confirm PATH | rollback PATH`. Usage errors
// return 2 after printing; otherwise as run_link.
int run_checkpoint(sd_bus *bus, std::span<const std::string> words);

// Runs the request against linkd; prints results; returns the process exit status
// (0 ok, 3 failure; the error is printed).
int run_link(sd_bus *bus, const LinkRequest &r, bool json);

} // namespace alopexctl
