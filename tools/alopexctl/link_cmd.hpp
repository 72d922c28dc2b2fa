// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl link ...` and `alopexctl checkpoint ...`: parse (pure), documents (pure),
// and the calls to org.alopex.Link1.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "args.hpp"
#include "context.hpp"
#include "link1_client.hpp"
#include "output.hpp"

namespace alopexctl {

struct LinkRequest {
    enum class Op { list, show, up, down, set_mtu, set_zone, rename, addr_add, addr_del, route_add, route_del,
                    renew, release, reload };
    Op op = Op::list;
    std::string link{};                  // name or index, as given
    uint32_t mtu = 0;
    std::string value{};                 // zone, new name, address (CIDR)
    // Routes.
    std::string to{}, via{};
    uint32_t metric = 0, table = 0;
};

// Words after "link". Errors name the offending word.
alopex::Result<LinkRequest> parse_link_args(std::span<const std::string_view> words);

// The link a name or decimal index refers to, or NoSuchLink naming it.
alopex::Result<alopex::ipc::link1::LinkInfo> find_link(const std::vector<alopex::ipc::link1::LinkInfo> &links,
                                                       std::string_view ref);

// link list: IDX LINK KIND OPER ADMIN MTU ZONE ADDRESSES (global scope), and with -f
// MAC CARRIER CONTROLLER MANAGED DNS DOMAINS DHCP. link show: a record. Both have the
// JSON {"links": [...]}.
alopex::cli::Document links_document(const std::vector<alopex::ipc::link1::LinkInfo> &links);
alopex::cli::Document link_detail_document(const alopex::ipc::link1::LinkInfo &l);

// Runs the request against linkd and prints the result: the exit status.
int run_link(Context &ctx, const LinkRequest &r);

struct CheckpointRequest {
    enum class Op { create, confirm, rollback };
    Op op = Op::create;
    uint32_t timeout_s = 0;
    std::string path{};
};
alopex::Result<CheckpointRequest> parse_checkpoint_args(std::span<const std::string_view> words);
int run_checkpoint(Context &ctx, const CheckpointRequest &r);

std::vector<alopex::cli::Command> link_commands(Context &ctx);
std::vector<alopex::cli::Command> checkpoint_commands(Context &ctx);

} // namespace alopexctl
