// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-openflow: bytes from ovs-vswitchd's management socket, as the base flows read them:
// framed into messages, the first checked as a HELLO, ERRORs decoded, echo requests
// answered. Whatever comes: no crash, no message longer than the bytes that carried it,
// and an echo reply as long as its request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "openflow.hpp"

using namespace alopex::ovs::openflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Framer f;
    // Fed in two pieces, as a socket may deliver them.
    size_t cut = size ? data[0] % (size + 1) : 0;
    auto bytes = std::as_bytes(std::span<const uint8_t>(data, size));
    size_t seen = 0, total = 0;
    for (auto piece : {bytes.first(cut), bytes.subspan(cut)}) {
        if (!f.feed(piece))
            return 0;
        total += piece.size();
        while (auto m = f.next()) {
            if (m->header.length < header_size)
                return 0;   // the agent closes the connection
            seen += m->header.length;
            if (seen > total || m->body.size() + header_size != m->header.length)
                abort();
            (void)accept_hello(*m);
            if (m->header.type == error)
                (void)parse_error(*m);
            if (m->header.type == echo_request && echo_reply_message(*m).size() != m->header.length)
                abort();
        }
    }
    return 0;
}
