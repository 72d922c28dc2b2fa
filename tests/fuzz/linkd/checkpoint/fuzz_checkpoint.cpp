// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-linkd-checkpoint: bytes as a pending checkpoint file ($STATE_DIRECTORY/
// checkpoint-<id>.json), read back at start. Any outcome but a crash; what parses must
// round-trip and go through the rollback planning (against a small kernel state and
// against an empty one) without trouble, as a revived checkpoint does.
#include <linux/if.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "checkpoint.hpp"
#include "checkpoint_file.hpp"

using namespace alopex;
using namespace alopex::linkd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    (void)checkpoint_file_id(text.substr(0, 64));
    auto rec = parse_checkpoint(text);
    if (!rec)
        return 0;
    auto again = parse_checkpoint(format_checkpoint(*rec));
    if (!again || !(*again == *rec))
        abort();
    netlink::Snapshot k;
    netlink::Link eth;
    eth.ifindex = 2;
    eth.name = "eth0";
    eth.flags = IFF_UP;
    eth.mtu = 1500;
    k.links[2] = eth;
    for (const auto &now : {capture(k), capture(netlink::Snapshot{})}) {
        (void)rollback_requests(rec->state, now);
        std::vector<std::string> notes;
        (void)netdev_rollback_requests(rec->state, now, rec->netdevs, notes);
    }
    (void)renumber(rec->state, {{2, 20}, {5, 2}});
    return 0;
}
