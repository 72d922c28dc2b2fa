// SPDX-License-Identifier: GPL-2.0-or-later
#include "ccp_options.hpp"

#include <algorithm>

namespace alopex::slirp::ppp {

namespace o = ccp_option;

namespace {

constexpr uint8_t deflate_method = 8, check_sequence = 0;

// Deflate's option value (RFC 1979 §3): the window's bits - 8 and the method in one
// octet, then the check method. The window when it is one we take.
std::optional<unsigned> deflate_window(std::span<const uint8_t> v)
{
    if (v.size() != 2 || (v[0] & 0x0F) != deflate_method || v[1] != check_sequence)
        return std::nullopt;
    unsigned bits = (v[0] >> 4) + 8u;
    if (bits < 9 || bits > 15)
        return std::nullopt;
    return bits;
}

uint8_t deflate_octet(unsigned bits)
{
    return static_cast<uint8_t>((bits - 8) << 4 | deflate_method);
}

} // namespace

void CcpOptions::reset()
{
    asking_ = config_.deflate;
    window_ = std::clamp(config_.window, 9u, 15u);
    to_peer_.reset();
    from_peer_.reset();
}

std::vector<uint8_t> CcpOptions::request() const
{
    std::vector<uint8_t> out;
    if (asking_) {
        uint8_t v[2] = {deflate_octet(window_), check_sequence};
        put_option(out, o::deflate, v);
    }
    return out;
}

Result<ConfigureReply> CcpOptions::on_request(std::span<const uint8_t> options, bool reject_instead_of_nak)
{
    auto list = parse_options(options);
    if (!list)
        return std::unexpected(list.error());
    ReplyBuilder reply;
    std::optional<unsigned> window;
    bool seen = false;
    for (const Option &x : *list) {
        if (x.type != o::deflate || seen || !config_.deflate) {
            reply.reject(x);   // draft Deflate, BSD, Predictor, MPPE, a second Deflate, unknown
            continue;
        }
        seen = true;
        if (x.value.size() != 2) {
            reply.reject(x);
        } else if (auto w = deflate_window(x.value)) {
            window = w;
        } else {
            uint8_t v[2] = {deflate_octet(15), check_sequence};
            reply.nak(x, v);
        }
    }
    if (reply.acknowledges()) {
        to_peer_ = window;
        if (window && peer_acked)
            peer_acked(*window);
    }
    return reply.finish(options, reject_instead_of_nak);
}

bool CcpOptions::on_ack(std::span<const uint8_t> options)
{
    if (!std::ranges::equal(request(), options))
        return false;
    from_peer_ = asking_ ? std::optional<unsigned>(window_) : std::nullopt;
    if (from_peer_ && ours_acked)
        ours_acked(*from_peer_);
    return true;
}

bool CcpOptions::on_nak(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list) {
        if (x.type != o::deflate || !asking_)
            continue;   // a Nak asking for something else: we do not add it
        auto w = deflate_window(x.value);
        if (w && *w <= window_)
            window_ = *w;
        else
            asking_ = false;
    }
    return true;
}

bool CcpOptions::on_reject(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list)
        if (x.type != o::deflate || !asking_)
            return false;
    if (!list->empty())
        asking_ = false;
    return true;
}

} // namespace alopex::slirp::ppp
