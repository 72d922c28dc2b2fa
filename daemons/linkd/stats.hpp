// SPDX-License-Identifier: GPL-2.0-or-later
// Reads one link's counters (IFLA_STATS64) from the kernel with a one-shot RTM_GETLINK,
// so the Statistics property is current without following every counter change.
//
// A property getter cannot wait, and this one does not: the kernel handles an rtnetlink
// request inside the sendmsg() that sends it and queues its answer on our socket before
// sendmsg() returns, so the answer is read without waiting (the socket is non-blocking;
// an answer that is not there is an error, never a wait). Counters the monitor holds
// from the last RTM_NEWLINK event are not served instead: links announce state changes,
// not traffic, so those would be as old as the link's last change.
#pragma once

#include "alopex/error.hpp"
#include "alopex/netlink/types.hpp"

namespace alopex::linkd {

Result<netlink::LinkStats> read_link_stats(int ifindex);

} // namespace alopex::linkd
