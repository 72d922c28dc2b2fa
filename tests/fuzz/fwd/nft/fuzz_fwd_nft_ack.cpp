// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as one datagram of nf_tables answers to a batch: collect_acks (every
// NLMSG_ERROR with its errno, extack offset and text) and truncated_ack (a datagram cut
// short). Never a crash or a read past the datagram (an exactly-sized copy: ASan sees
// it); every errno is positive or 0; a narrower window of sequence numbers and a port id
// give a subset of the answers, all inside the window.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "nft/socket.hpp"

using namespace alopex::fwd::nft::detail;

namespace {

void check(bool ok)
{
    if (!ok)
        abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // A received datagram starts aligned (new[] is); its length is what it is.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
    if (size)
        std::memcpy(buf.get(), data, size);

    std::vector<Ack> all;
    const bool ok = collect_acks(buf.get(), size, 0, UINT32_MAX, all);
    for (const auto &a : all)
        check(a.error >= 0 && a.text.size() < size);

    std::vector<Ack> some;
    const bool ok2 = collect_acks(buf.get(), size, 100, 200, some, 2215);
    check(!ok || ok2);   // fewer answers looked at: never more malformed
    if (ok)
        check(some.size() <= all.size());
    for (const auto &a : some)
        check(a.seq >= 100 && a.seq <= 200 && a.error >= 0);

    std::vector<Ack> cut;
    if (truncated_ack(buf.get(), size, 0, UINT32_MAX, cut))
        check(cut.size() <= 1 && (cut.empty() || (cut[0].error >= 0 && cut[0].text.empty())));
    else
        check(cut.empty());
    return 0;
}
