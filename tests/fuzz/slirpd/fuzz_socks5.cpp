// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-socks5: what a SOCKS5 proxy may answer slirpd's CONNECT (RFC 1928, RFC 1929).
// The first octet chooses authentication; then chunks (a length octet, the bytes) go to
// the client as the proxy's answers. Once Connected or Failed it stays done: anything
// more is a failure, never a second Connected; what it asks to send is always one of the
// messages it knows (CONNECT or the username/password), never more than 513 octets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "socks5.hpp"

using namespace alopex::slirp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    std::optional<Socks5Auth> auth;
    if (data[0] & 1)
        auth = Socks5Auth{"pikvm", "s3cret"};
    Socks5Client c(0xC6336401, 8080, auth);
    std::span<const uint8_t> in(data + 1, size - 1);
    bool done = false;
    while (!in.empty()) {
        size_t n = std::min<size_t>(in[0], in.size() - 1);
        auto chunk = in.subspan(1, n);
        in = in.subspan(1 + n);
        auto s = c.input(chunk);
        if (done && s.status != Socks5Client::Status::Failed)
            std::abort();
        if (s.send.size() > 513 || (s.status == Socks5Client::Status::Send && s.send.empty()))
            std::abort();
        if (s.status == Socks5Client::Status::Connected || s.status == Socks5Client::Status::Failed)
            done = true;
    }
    return 0;
}
