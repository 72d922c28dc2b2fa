// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-rtnl-ack: bytes as one datagram on linkd's rtnetlink request socket (port id
// 0x1234, a chunk of 64 requests from sequence number 1000). Whatever is found must name
// a request of the chunk, carry a positive errno or 0 and printable text; the same bytes
// from any sender but the kernel must yield nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "rtnl.hpp"

using namespace alopex::linkd::rtnl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // An exact-size copy: any read past `size` is a sanitizer report.
    std::unique_ptr<unsigned char[]> copy(new unsigned char[size ? size : 1]);
    if (size)
        std::memcpy(copy.get(), data, size);
    std::span<const unsigned char> datagram(copy.get(), size);
    constexpr size_t count = 64;
    for (const Ack &a : parse_acks(datagram, 0, 0x1234, 1000, count)) {
        if (a.index >= count || a.error < 0)
            abort();
        for (unsigned char c : a.message)
            if (c < 0x20 || c == 0x7f)
                abort();
    }
    if (!parse_acks(datagram, 0x4242, 0x1234, 1000, count).empty())
        abort();
    // Sequence numbers that wrap around 2^32 within the chunk.
    (void)parse_acks(datagram, 0, 0x1234, 0xfffffff0u, count);
    return 0;
}
