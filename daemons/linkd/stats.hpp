// SPDX-License-Identifier: GPL-2.0-or-later
// Reads one link's counters (IFLA_STATS64) from the kernel with a one-shot RTM_GETLINK,
// so the Statistics property is current without following every counter change.
#pragma once

#include "alopex/error.hpp"
#include "alopex/netlink/types.hpp"

namespace alopex::linkd {

Result<netlink::LinkStats> read_link_stats(int ifindex);

} // namespace alopex::linkd
