// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipcp_options.hpp"

#include <algorithm>

namespace alopex::slirp::ppp {

namespace o = ipcp_option;

std::vector<uint8_t> IpcpOptions::request() const
{
    std::vector<uint8_t> out;
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
    for (const Option &x : *list) {
        switch (x.type) {
        case o::ip_address: address(x, config_.peer); break;
        case o::primary_dns: address(x, config_.dns1); break;
        case o::secondary_dns: address(x, config_.dns2); break;
        default: reply.reject(x); break;   // VJ (for now), IP-Addresses, NBNS, unknown
        }
    }
    if (reply.acknowledges())
        peer_acked_ = std::ranges::any_of(*list, [](const Option &x) { return x.type == o::ip_address; });
    return reply.finish(options, reject_instead_of_nak);
}

bool IpcpOptions::on_ack(std::span<const uint8_t> options) const
{
    return std::ranges::equal(request(), options);
}

bool IpcpOptions::on_nak(std::span<const uint8_t> options) const
{
    // Well-formed, and our address stays as configured: the next request asks the same.
    return parse_options(options).has_value();
}

bool IpcpOptions::on_reject(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list)
        if (x.type != o::ip_address || !asking_address_)
            return false;
    if (!list->empty())
        asking_address_ = false;
    return true;
}

} // namespace alopex::slirp::ppp
