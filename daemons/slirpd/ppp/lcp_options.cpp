// SPDX-License-Identifier: GPL-2.0-or-later
#include "lcp_options.hpp"

#include <algorithm>
#include <cerrno>
#include <optional>

#include "auth.hpp"

namespace alopex::slirp::ppp {

namespace o = lcp_option;

namespace {

// Authentication-Protocol's value: PAP (C023) or CHAP (C223) with MD5 (5); another
// protocol or CHAP algorithm is none we take.
std::optional<uint16_t> auth_value(std::span<const uint8_t> v)
{
    if (v.size() == 2 && (v[0] << 8 | v[1]) == proto_pap)
        return proto_pap;
    if (v.size() == 3 && (v[0] << 8 | v[1]) == proto_chap && v[2] == chap_md5)
        return proto_chap;
    return std::nullopt;
}

} // namespace

LcpOptions::LcpOptions(LcpWants wants, std::function<uint32_t()> random)
    : wants_(wants), random_(std::move(random))
{
    reset();
}

uint32_t LcpOptions::new_magic()
{
    for (;;)
        if (uint32_t v = random_ ? random_() : 0x4c43502b; v != 0)
            return v;
}

void LcpOptions::reset()
{
    asking_ = {};
    asking_.mru = wants_.mru != default_mru;
    asking_.mru_value = wants_.mru;
    asking_.accm_value = wants_.accm;
    asking_.magic = wants_.magic;
    asking_.magic_value = wants_.magic ? new_magic() : 0;
    asking_.pfc = wants_.pfc;
    asking_.acfc = wants_.acfc;
    asking_.auth = !wants_.auth.empty();
    // The receive side waits for the new Ack. The send side stays: it is set by each
    // request of the peer we acknowledge, which may come before our own request restarts.
    LcpSettings fresh;
    settings_.receive_mru = fresh.receive_mru;
    settings_.receive_accm = fresh.receive_accm;
    settings_.receive_pfc = fresh.receive_pfc;
    settings_.receive_acfc = fresh.receive_acfc;
    settings_.our_magic = fresh.our_magic;
    settings_.auth = 0;
}

std::vector<uint8_t> LcpOptions::request() const
{
    std::vector<uint8_t> out;
    if (asking_.mru)
        put_option_u16(out, o::mru, asking_.mru_value);
    if (asking_.accm)
        put_option_u32(out, o::accm, asking_.accm_value);
    if (asking_.auth) {
        uint16_t p = wants_.auth[asking_.auth_index];
        uint8_t v[3] = {static_cast<uint8_t>(p >> 8), static_cast<uint8_t>(p), chap_md5};
        put_option(out, o::auth_protocol, std::span<const uint8_t>(v, p == proto_chap ? 3 : 2));
    }
    if (asking_.magic)
        put_option_u32(out, o::magic_number, asking_.magic_value);
    if (asking_.pfc)
        put_option(out, o::pfc, {});
    if (asking_.acfc)
        put_option(out, o::acfc, {});
    return out;
}

Result<ConfigureReply> LcpOptions::on_request(std::span<const uint8_t> options, bool reject_instead_of_nak)
{
    auto list = parse_options(options);
    if (!list)
        return std::unexpected(list.error());
    ReplyBuilder reply;
    LcpSettings send;   // options the request leaves out take their defaults
    for (const Option &x : *list) {
        uint16_t v16 = 0;
        uint32_t v32 = 0;
        switch (x.type) {
        case o::mru:
            if (!value_u16(x, v16))
                reply.reject(x);
            else if (v16 < min_mru)
                reply.nak_u16(x, min_mru);
            else
                send.send_mru = v16;
            break;
        case o::accm:
            if (!value_u32(x, v32))
                reply.reject(x);
            else
                send.send_accm = v32;
            break;
        case o::magic_number:
            if (!value_u32(x, v32)) {
                reply.reject(x);
            } else if (v32 == 0 || (asking_.magic && v32 == asking_.magic_value)) {
                // Zero is not a magic number; our own coming back may be a looped-back
                // line: both get a new value suggested, and we take a new one too.
                if (v32 != 0) {
                    ++loopbacks_;
                    asking_.magic_value = new_magic();
                }
                reply.nak_u32(x, new_magic());
            } else {
                send.peer_magic = v32;
            }
            break;
        case o::pfc:
        case o::acfc:
            if (!x.value.empty())
                reply.reject(x);
            else
                (x.type == o::pfc ? send.send_pfc : send.send_acfc) = true;
            break;
        default:   // authentication, quality protocol, anything unknown
            reply.reject(x);
            break;
        }
    }
    if (reply.acknowledges()) {
        settings_.send_mru = send.send_mru;
        settings_.send_accm = send.send_accm;
        settings_.send_pfc = send.send_pfc;
        settings_.send_acfc = send.send_acfc;
        settings_.peer_magic = send.peer_magic;
    }
    return reply.finish(options, reject_instead_of_nak);
}

bool LcpOptions::on_ack(std::span<const uint8_t> options)
{
    auto sent = request();
    if (!std::ranges::equal(sent, options))
        return false;
    settings_.receive_mru = asking_.mru ? asking_.mru_value : default_mru;
    settings_.receive_accm = asking_.accm ? asking_.accm_value : 0xFFFFFFFF;
    settings_.receive_pfc = asking_.pfc;
    settings_.receive_acfc = asking_.acfc;
    settings_.our_magic = asking_.magic ? asking_.magic_value : 0;
    settings_.auth = asking_.auth ? wants_.auth[asking_.auth_index] : 0;
    return true;
}

bool LcpOptions::on_nak(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list) {
        uint16_t v16 = 0;
        uint32_t v32 = 0;
        switch (x.type) {
        case o::mru:
            // We can always receive 1500 (RFC 1661 §6.1); a smaller MRU down to 128 is taken.
            if (value_u16(x, v16) && v16 >= min_mru && v16 <= std::max(wants_.mru, default_mru)) {
                asking_.mru = v16 != default_mru;
                asking_.mru_value = v16;
            } else {
                asking_.mru = false;
            }
            break;
        case o::accm:
            if (value_u32(x, v32))
                asking_.accm_value |= v32;   // escape what the line needs as well as what we do
            break;
        case o::magic_number:
            if (asking_.magic)
                asking_.magic_value = new_magic();
            break;
        case o::pfc:
            asking_.pfc = false;
            break;
        case o::acfc:
            asking_.acfc = false;
            break;
        case o::auth_protocol:
            if (asking_.auth) {
                auto want = auth_value(x.value);
                auto it = want ? std::ranges::find(wants_.auth, *want) : wants_.auth.end();
                if (it != wants_.auth.end())
                    asking_.auth_index = static_cast<size_t>(it - wants_.auth.begin());
                else if (asking_.auth_index + 1 < wants_.auth.size())
                    ++asking_.auth_index;
            }
            break;
        default:
            break;   // an option we did not ask for: we do not ask for it
        }
    }
    return true;
}

bool LcpOptions::on_reject(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    Asking next = asking_;
    for (const Option &x : *list) {
        switch (x.type) {
        case o::mru: if (!next.mru) return false; next.mru = false; break;
        case o::accm: if (!next.accm) return false; next.accm = false; break;
        case o::magic_number: if (!next.magic) return false; next.magic = false; break;
        case o::pfc: if (!next.pfc) return false; next.pfc = false; break;
        case o::acfc: if (!next.acfc) return false; next.acfc = false; break;
        case o::auth_protocol: if (!next.auth) return false; next.auth = false; break;
        default: return false;   // not something we asked for: not a Reject of our request
        }
    }
    asking_ = next;
    return true;
}

} // namespace alopex::slirp::ppp
