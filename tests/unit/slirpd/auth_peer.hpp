// SPDX-License-Identifier: GPL-2.0-or-later
// The authenticating side of the test peer (ppp_peer.hpp), as pppd with `user NAME` and
// a secret: LCP's Authentication-Protocol option of slirpd's request acknowledged when it
// is one the peer accepts, else Naked with the first it does; then PAP's
// Authenticate-Request, or CHAP's Response to each Challenge (MD5, auth.hpp), and the
// result noted.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "auth.hpp"
#include "control.hpp"
#include "packet.hpp"

namespace slirp_test {

using namespace alopex::slirp::ppp;

struct PeerAuth {
    std::string name, secret;
    std::vector<uint16_t> accept = {proto_chap, proto_pap};
    uint16_t agreed = 0;            // what our Ack of slirpd's request took
    bool passed = false, failed = false;
    std::string message;            // of the Ack/Nak, Success/Failure
    uint8_t next_id = 1;

    // LCP's answer to slirpd's request: `inner` answers the rest, the auth option is ours.
    alopex::Result<ConfigureReply> on_request(const Negotiator &inner, std::span<const uint8_t> d, bool rej)
    {
        auto list = parse_options(d);
        if (!list)
            return std::unexpected(list.error());
        std::vector<uint8_t> rest;
        std::optional<uint16_t> asked;
        std::vector<uint8_t> raw_auth;
        for (const auto &o : *list) {
            if (o.type != lcp_option::auth_protocol) {
                put_option(rest, o.type, o.value);
                continue;
            }
            raw_auth.assign(o.value.begin(), o.value.end());
            if (o.value.size() == 2 && (o.value[0] << 8 | o.value[1]) == proto_pap)
                asked = proto_pap;
            else if (o.value.size() == 3 && (o.value[0] << 8 | o.value[1]) == proto_chap && o.value[2] == chap_md5)
                asked = proto_chap;
            else
                asked = 0;
        }
        auto r = inner.on_request(rest, rej);
        if (!r || !asked)
            return r;
        bool ok = *asked && std::ranges::find(accept, *asked) != accept.end();
        if (r->code == Code::ConfigureAck) {
            if (ok) {
                agreed = *asked;
                return ConfigureReply{Code::ConfigureAck, std::vector<uint8_t>(d.begin(), d.end())};
            }
            std::vector<uint8_t> nak;
            uint16_t p = accept.front();
            uint8_t v[3] = {static_cast<uint8_t>(p >> 8), static_cast<uint8_t>(p), chap_md5};
            put_option(nak, lcp_option::auth_protocol, std::span<const uint8_t>(v, p == proto_chap ? 3 : 2));
            return ConfigureReply{Code::ConfigureNak, nak};
        }
        return r;
    }

    // LCP is up: PAP's request goes at once; CHAP waits for a Challenge.
    template <typename Send> void start(Send &&send)
    {
        if (agreed != proto_pap)
            return;
        std::vector<uint8_t> data{static_cast<uint8_t>(name.size())};
        data.insert(data.end(), name.begin(), name.end());
        data.push_back(static_cast<uint8_t>(secret.size()));
        data.insert(data.end(), secret.begin(), secret.end());
        std::vector<uint8_t> info;
        build_packet(info, 1, next_id++, data);
        send(proto_pap, info);
    }

    template <typename Send> void input(uint16_t protocol, std::span<const uint8_t> info, Send &&send)
    {
        auto p = parse_packet(info);
        if (!p)
            return;
        if (protocol == proto_chap && p->code == 1 && !p->data.empty() && p->data[0] + 1u <= p->data.size()) {
            auto value = *chap_md5_response(p->id, secret, p->data.subspan(1, p->data[0]));
            std::vector<uint8_t> data{16};
            data.insert(data.end(), value.begin(), value.end());
            data.insert(data.end(), name.begin(), name.end());
            std::vector<uint8_t> out;
            build_packet(out, 2, p->id, data);
            send(proto_chap, out);
            return;
        }
        bool success = (protocol == proto_pap && p->code == 2) || (protocol == proto_chap && p->code == 3);
        bool failure = (protocol == proto_pap && p->code == 3) || (protocol == proto_chap && p->code == 4);
        auto msg = protocol == proto_pap && !p->data.empty() ? p->data.subspan(1) : p->data;
        message.assign(msg.begin(), msg.end());
        passed = passed || success;
        failed = failed || failure;
    }
};

} // namespace slirp_test
