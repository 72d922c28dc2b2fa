// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-slirp-auth: PAP or CHAP packets from a peer into the Authenticator (auth.hpp),
// with clock advances. The first octet picks the protocol; then steps of a length
// octet and that many octets (a packet), or, for a length of 0, an advance of 1 s. A
// CHAP step whose first octet is 0xFF becomes the right Response to the last Challenge
// (so that success and what follows it are reached). Whatever comes: everything sent is
// a well-formed packet of the protocol, `done` is called at most once, and nobody passes
// without the secret.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "auth.hpp"
#include "packet.hpp"

using namespace alopex::slirp::ppp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint16_t protocol = data[0] & 1 ? proto_chap : proto_pap;
    std::span<const uint8_t> in(data + 1, size - 1);
    AuthConfig config;
    config.secrets = {{"pikvm", "s3cret"}};
    std::vector<std::vector<uint8_t>> sent;
    int done = 0;
    bool passed = false;
    uint32_t seed = 1;
    Authenticator a(
        protocol, config, [&seed] { return seed = seed * 1103515245 + 12345; },
        [&](uint16_t p, std::vector<uint8_t> info) {
            if (p != protocol || !parse_packet(info))
                std::abort();
            sent.push_back(std::move(info));
        },
        [&](bool ok) {
            ++done;
            passed = ok;
        });
    uint64_t now = 0;
    a.start(now);
    bool honest = false;   // a right Response was sent by the harness
    while (!in.empty()) {
        size_t n = std::min<size_t>(in[0], in.size() - 1);
        auto packet = in.subspan(1, n);
        in = in.subspan(1 + n);
        if (n == 0) {
            now += 1'000'000;
            a.advance(now);
            continue;
        }
        if (protocol == proto_chap && packet[0] == 0xFF && !sent.empty()) {
            auto c = parse_packet(sent.back());
            if (c && c->code == 1 && !c->data.empty() && c->data[0] + 1u <= c->data.size()) {
                auto v = chap_md5_response(c->id, "s3cret", c->data.subspan(1, c->data[0]));
                std::vector<uint8_t> d{16};
                d.insert(d.end(), v->begin(), v->end());
                d.insert(d.end(), {'p', 'i', 'k', 'v', 'm'});
                std::vector<uint8_t> r;
                build_packet(r, 2, c->id, d);
                honest = true;
                a.input(r, now);
                continue;
            }
        }
        a.input(packet, now);
    }
    if (done > 1)
        std::abort();
    // PAP can be passed by bytes that carry the password; CHAP only with the secret's MD5.
    if (protocol == proto_chap && passed && !honest)
        std::abort();
    return 0;
}
