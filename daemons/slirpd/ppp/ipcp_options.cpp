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

// The address of an option, when a client may be given it or take it as its peer's:
// IPv4 unicast, not 0.0.0.0 or loopback.
std::optional<net::Address> usable(const Option &x)
{
    uint32_t a = 0;
    if (!value_u32(x, a) || a == 0 || a >> 24 == 127 || a >> 24 >= 224)
        return std::nullopt;
    return net::Address::v4(a);
}

} // namespace

void IpcpOptions::reset()
{
    // Our side only: what the peer's last acknowledged request said stays (reset runs as
    // our new request goes, which may be after we acknowledged the peer's, RFC 1661's
    // RCR in Opened).
    local_ = config_.local;
    dns_[0] = config_.client ? net::Address{} : config_.dns1;
    dns_[1] = config_.client ? net::Address{} : config_.dns2;
    asking_dns_[0] = asking_dns_[1] = config_.client;
    if (config_.client && local_.empty())
        local_ = net::Address::v4(0);
    asking_address_ = true;
    asking_vj_ = config_.vj;
    our_vj_ = {};
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
        put_option(out, o::ip_address, local_.bytes());
    static const uint8_t any[4] = {};
    for (int i = 0; i < 2; ++i)
        if (asking_dns_[i])
            put_option(out, i ? o::secondary_dns : o::primary_dns, dns_[i].empty() ? std::span<const uint8_t>(any)
                                                                                   : dns_[i].bytes());
    return out;
}

Result<ConfigureReply> IpcpOptions::on_request(std::span<const uint8_t> options, bool reject_instead_of_nak)
{
    if (config_.client)
        return on_client_request(options, reject_instead_of_nak);
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
    if (config_.client) {
        // A Nak is taken whole or not at all (an unusable address discards it).
        for (const Option &x : *list)
            if ((x.type == o::ip_address || x.type == o::primary_dns || x.type == o::secondary_dns) &&
                !usable(x))
                return false;
        for (const Option &x : *list)
            on_client_nak(x);
    }
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
    auto asked = [this](uint8_t type) {
        switch (type) {
        case o::ip_address: return asking_address_;
        case o::ip_compression: return asking_vj_;
        case o::primary_dns: return asking_dns_[0];
        case o::secondary_dns: return asking_dns_[1];
        default: return false;
        }
    };
    for (const Option &x : *list)
        if (!asked(x.type) || (config_.client && x.type == o::ip_address))
            return false;   // a client without an address cannot go on: Configure-Reject ends it
    for (const Option &x : *list) {
        switch (x.type) {
        case o::ip_address: asking_address_ = false; break;
        case o::ip_compression: asking_vj_ = false; break;
        case o::primary_dns: asking_dns_[0] = false; break;
        default: asking_dns_[1] = false; break;
        }
    }
    return true;
}

// The server's request, as its client: its own address acknowledged and learned.
Result<ConfigureReply> IpcpOptions::on_client_request(std::span<const uint8_t> options, bool reject_instead_of_nak)
{
    auto list = parse_options(options);
    if (!list)
        return std::unexpected(list.error());
    ReplyBuilder reply;
    std::optional<vj::Options> peer_vj;
    net::Address peer;
    for (const Option &x : *list) {
        switch (x.type) {
        case o::ip_address:
            if (auto a = usable(x))
                peer = *a;
            else if (x.value.size() == 4 && config_.peer.is_v4() && !config_.peer.is_unspecified())
                reply.nak(x, config_.peer.bytes());
            else
                reply.reject(x);
            break;
        case o::ip_compression:
            peer_vj = config_.vj ? vj_value(x.value) : std::nullopt;
            if (!peer_vj)
                reply.reject(x);
            break;
        default: reply.reject(x); break;   // DNS and NBNS requests, IP-Addresses, unknown
        }
    }
    if (reply.acknowledges()) {
        peer_acked_ = !peer.empty();
        peer_ = peer;
        peer_vj_ = peer_vj;
    }
    return reply.finish(options, reject_instead_of_nak);
}

void IpcpOptions::on_client_nak(const Option &x)
{
    auto take = [&x](net::Address &a) { a = *usable(x); };   // on_nak() checked it
    switch (x.type) {
    case o::ip_address:
        if (asking_address_)
            take(local_);
        break;
    case o::primary_dns:
        if (asking_dns_[0])
            take(dns_[0]);
        break;
    case o::secondary_dns:
        if (asking_dns_[1])
            take(dns_[1]);
        break;
    default: break;
    }
}

} // namespace alopex::slirp::ppp
