// SPDX-License-Identifier: GPL-2.0-or-later
// The integration test's independent view of the kernel: `ip -j` output, and the
// monitor's snapshot rendered in the same comparable lines.
#pragma once

#include <set>
#include <string>

#include "alopex/netlink/state.hpp"
#include "shell.hpp"

namespace alopex::netlink::itest {

struct View {
    std::set<std::string> links, addresses, routes;
    bool operator==(const View &) const = default;
};

using alopex::itest::capture;
using alopex::itest::sh;

View from_ip();                        // ip -j -d link / ip -j addr / ip -j route table all
View from_snapshot(const Snapshot &s);
// Human-readable symmetric difference (empty when equal).
std::string explain(const View &want, const View &got);

} // namespace alopex::netlink::itest
