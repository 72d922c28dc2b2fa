// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-dhcp-lease: bytes as linkd's DHCPv4 lease file (dhcp4-<link>.lease), read back
// at start. The first 8 bytes choose the clock offset (realtime - client clock) when the
// input starts with '!' (so the seeds stay plain lease files). Whatever parses must
// round-trip, have deadlines in order, and drive the client's start without overflow.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "client.hpp"
#include "lease.hpp"

using namespace alopex::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t off = 1'700'000'000'000'000;   // a plausible realtime - boottime
    if (size >= 9 && data[0] == '!') {
        std::memcpy(&off, data + 1, sizeof off);
        data += 9;
        size -= 9;
    }
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto l = parse_lease(text, off);
    if (!l)
        return 0;
    auto again = parse_lease(format_lease(*l, off), off);
    if (!again || !(*again == *l))
        std::abort();
    if (!(l->t1_at() <= l->t2_at() && l->t2_at() <= l->expiry_at()))
        std::abort();
    (void)l->effective_routes();
    Client c(Identity{Mac{2, 0, 0, 0, 0, 1}, {}, "fuzz"}, [] { return 7u; });
    // Times the client may see (an infinite lease's T2 is INT64_MAX: stay within 2^40 s).
    int64_t late = std::min(l->t2_at(), l->acquired_usec + (int64_t{1} << 40)) - 1;
    for (int64_t now : {int64_t{0}, l->acquired_usec, late}) {
        (void)c.start(now, *l);
        (void)c.on_timer(now + 1);
        (void)c.renew(now + 2);
        (void)c.link_down(now + 3);
    }
    return 0;
}
