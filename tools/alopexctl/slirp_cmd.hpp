// SPDX-License-Identifier: GPL-2.0-or-later
// `alopexctl slirp ...`: the instances of alopex-slirpd (org.alopex.Slirp1.NAME) and their
// connections. Parse and documents are pure; run_slirp calls the bus.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "args.hpp"
#include "context.hpp"
#include "output.hpp"
#include "slirp1_client.hpp"

namespace alopexctl {

struct SlirpRequest {
    enum class Op { status, connections, close, reload, capture };
    Op op = Op::status;
    std::string instance{};   // "" : every instance (status, connections); the only one (capture)
    uint64_t id = 0;
    std::string file{};       // capture: where the pcap goes ("-": standard output)
    uint32_t seconds = 30;    // capture: --for
};

// Words after "slirp". Errors name the offending word.
alopex::Result<SlirpRequest> parse_slirp_args(std::span<const std::string_view> words);
// The options of `slirp` verbs (--for), for the command line's one list.
std::span<const alopex::cli::OptionSpec> slirp_options();

// slirp status: INSTANCE DEVICE LINE PHASE PEER CONNECTIONS, with -f also LOCAL, ECHO RTT,
// MRU, PORT MAPS, SERVICE; JSON {"instances": [...]} with every property (counters and backends
// included). slirp connections: INSTANCE ID PEER DESTINATION TARGET STATE IN OUT IDLE,
// with -f also QUEUED (a paced line's queue delay);
// JSON {"connections": [...]}.
alopex::cli::Document slirp_status_document(const std::vector<alopex::ipc::slirp1::LineInfo> &lines);
alopex::cli::Document slirp_connections_document(
    const std::vector<std::pair<std::string, std::vector<alopex::ipc::slirp1::ConnectionInfo>>> &by_instance);

int run_slirp(Context &ctx, const SlirpRequest &r);
std::vector<alopex::cli::Command> slirp_commands(Context &ctx);

} // namespace alopexctl
