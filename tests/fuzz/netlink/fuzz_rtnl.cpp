// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-rtnl: bytes as a stream of rtnetlink messages, through the parser and the
// snapshot code, the way the monitor consumes a datagram.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include <libmnl/libmnl.h>

#include "alopex/netlink/state.hpp"
#include "alopex/netlink/types.hpp"

using namespace alopex::netlink;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // An exact-size, aligned copy: any read past `size` is a sanitizer report.
    std::unique_ptr<std::byte[]> copy(new std::byte[size ? size : 1]);
    if (size)
        memcpy(copy.get(), data, size);
    std::span<const std::byte> buf(copy.get(), size);

    // As a whole datagram.
    Snapshot whole;
    (void)parse_stream(buf, [&](Message &&m) { apply(whole, m); });

    // libmnl-style walk, message by message, skipping the ones that fail.
    Snapshot each;
    RouteFilter main_only = [](const RouteHeader &r) { return r.table == 254; };
    auto nlh = reinterpret_cast<const nlmsghdr *>(copy.get());
    int len = static_cast<int>(size);
    // mnl_nlmsg_ok() alone would accept nlmsg_len >= 2^31 (it compares as int).
    while (mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= static_cast<uint32_t>(len)) {
        auto m = parse_message(nlh, static_cast<size_t>(len));
        if (m && *m)
            apply(each, **m, main_only);
        nlh = mnl_nlmsg_next(nlh, &len);
    }

    (void)diff(whole, each);
    (void)diff(each, Snapshot{});
    return 0;
}
