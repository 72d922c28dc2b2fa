// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipcp_options.hpp"

#include <algorithm>
#include <optional>

namespace alopex::slirp::ppp {

namespace o = ipcp_option;

namespace {

// VJ's option value (RFC 1332 §3.2): the protocol, Max-Slot-Id, Comp-Slot-Id.
std::optional<vj::Options> vj_value(std::span<const uint8_t> v)
{
    if (v.size() != 4 || (v[0] << 8 | v[1]) != vj::protocol || v[3] > 1)
        return std::nullopt;
    return vj::Options{.max_slot = v[2], .slot_id_compressed = v[3] == 1};
}

} // namespace

void IpcpOptions::reset()
{
    asking_address_ = true;
    peer_acked_ = false;
    asking_vj_ = config_.vj;
    our_vj_ = {};
    peer_vj_.reset();
}

std::vector<uint8_t> IpcpOptions::request() const
{
    std::vector<uint8_t> out;
    if (asking_vj_) {
        uint8_t v[4] = {static_cast<uint8_t>(vj::protocol >> 8), static_cast<uint8_t>(vj::protocol), our_vj_.max_slot,
                        static_cast<uint8_t>(our_vj_.slot_id_compressed ? 1 : 0)};
        put_option(out, o::ip_compression, v);
    }
    if (asking_address_)
        put_option(out, o::ip_address, config_.local.bytes());
    return out;
}

Result<ConfigureReply> IpcpOptions::on_request(std::span<const uint8_t> options, bool reject_instead_of_nak)
{
    auto list = parse_options(options);
    if (!list)
        return std::unexpected(list.error());
    ReplyBuilder reply;
    // An address-valued option the peer must set to `want`: acknowledged when it does,
    // Naked with it otherwise, rejected when we have nothing to offer.
    auto address = [&](const Option &x, const net::Address &want) {
        if (x.value.size() != 4 || want.empty() || !want.is_v4())
            reply.reject(x);
        else if (!std::ranges::equal(x.value, want.bytes()))
            reply.nak(x, want.bytes());
    };
    std::optional<vj::Options> peer_vj;
    for (const Option &x : *list) {
        switch (x.type) {
        case o::ip_address: address(x, config_.peer); break;
        case o::primary_dns: address(x, config_.dns1); break;
        case o::secondary_dns: address(x, config_.dns2); break;
        case o::ip_compression:
            peer_vj = config_.vj ? vj_value(x.value) : std::nullopt;
            if (!peer_vj)
                reply.reject(x);
            break;
        default: reply.reject(x); break;   // IP-Addresses, NBNS, unknown
        }
    }
    if (reply.acknowledges()) {
        peer_acked_ = std::ranges::any_of(*list, [](const Option &x) { return x.type == o::ip_address; });
        peer_vj_ = peer_vj;
    }
    return reply.finish(options, reject_instead_of_nak);
}

bool IpcpOptions::on_ack(std::span<const uint8_t> options) const
{
    return std::ranges::equal(request(), options);
}

bool IpcpOptions::on_nak(std::span<const uint8_t> options)
{
    // Well-formed; our address stays as configured. VJ with other parameters is asked
    // for with them; another protocol instead of VJ, not at all.
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list) {
        if (x.type != o::ip_compression || !asking_vj_)
            continue;
        if (auto v = vj_value(x.value))
            our_vj_ = *v;
        else
            asking_vj_ = false;
    }
    return true;
}

bool IpcpOptions::on_reject(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list)
        if (!(x.type == o::ip_address && asking_address_) && !(x.type == o::ip_compression && asking_vj_))
            return false;
    for (const Option &x : *list)
        (x.type == o::ip_address ? asking_address_ : asking_vj_) = false;
    return true;
}

} // namespace alopex::slirp::ppp
