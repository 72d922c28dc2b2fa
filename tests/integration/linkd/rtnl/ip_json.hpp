// SPDX-License-Identifier: GPL-2.0-or-later
// The integration test's independent view of the kernel: `ip -j` parsed with nlohmann-json,
// and the small helpers every test case shares.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alopex/sd.hpp"
#include "async_client.hpp"
#include "rtnl.hpp"
#include "shell.hpp"

namespace alopex::linkd::rtnl::itest {

using nlohmann::json;

using alopex::itest::capture;                   // stdout; throws when it fails
using alopex::itest::sh;                        // true when it exits 0
json ip(const std::string &args);                // `ip -j <args>`, parsed

// Refuses to run outside a fresh namespace (only lo, or our own leftovers, which it
// removes), brings lo up and keeps the kernel's own IPv6 addresses out of the way.
void require_private_netns();

int ifindex(const std::string &name);            // 0 when there is no such link
json link(const std::string &name);              // `ip -j -d link show dev NAME`[0]
json addresses(const std::string &name);         // addr_info of `ip -j addr show dev NAME`
bool has_flag(const json &obj, const std::string &flag);   // in obj["flags"]

// The daemon's rtnl::AsyncClient, opened once; runs requests to their answers on a loop
// of the test's own and fails the test on a transport error.
std::vector<Result<>> run(std::vector<Request> requests);
void ok(const Request &r);                       // one request that must succeed

Request create(NetdevSpec n, std::string what = "");
Request set(LinkChange c, std::string what = "");
Request addr(Request::Op op, AddressSpec a, std::string what = "");
Request route(Request::Op op, RouteSpec r, std::string what = "");
Request del_link(int ifindex, std::string what = "");

} // namespace alopex::linkd::rtnl::itest
