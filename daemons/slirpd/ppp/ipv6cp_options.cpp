// SPDX-License-Identifier: GPL-2.0-or-later
#include "ipv6cp_options.hpp"

namespace alopex::slirp::ppp {

namespace o = ipv6cp_option;

namespace {

bool id_value(const Option &x, uint64_t &v)
{
    if (x.value.size() != 8)
        return false;
    v = 0;
    for (uint8_t b : x.value)
        v = v << 8 | b;
    return true;
}

void put_id(std::vector<uint8_t> &out, uint64_t id)
{
    uint8_t v[8];
    for (int i = 0; i < 8; ++i)
        v[i] = static_cast<uint8_t>(id >> (56 - 8 * i));
    put_option(out, o::interface_id, v);
}

} // namespace

std::array<uint8_t, 16> link_local(uint64_t id)
{
    std::array<uint8_t, 16> a{0xFE, 0x80};
    for (int i = 0; i < 8; ++i)
        a[8 + i] = static_cast<uint8_t>(id >> (56 - 8 * i));
    return a;
}

Ipv6cpOptions::Ipv6cpOptions(Ipv6cpConfig config, std::function<uint32_t()> random)
    : config_(config), random_(std::move(random))
{
    reset();
}

uint64_t Ipv6cpOptions::new_id()
{
    for (;;) {
        uint64_t v = uint64_t{random_()} << 32 | random_();
        if (v != 0 && v != local_ && v != peer_)
            return v;
    }
}

void Ipv6cpOptions::reset()
{
    // Our side only: the peer's identifier from its last acknowledged request stays.
    asking_ = true;
    local_ = config_.local_id ? config_.local_id : new_id();
}

std::vector<uint8_t> Ipv6cpOptions::request() const
{
    std::vector<uint8_t> out;
    if (asking_)
        put_id(out, local_);
    return out;
}

Result<ConfigureReply> Ipv6cpOptions::on_request(std::span<const uint8_t> options, bool reject_instead_of_nak)
{
    auto list = parse_options(options);
    if (!list)
        return std::unexpected(list.error());
    ReplyBuilder reply;
    uint64_t peer = 0;
    for (const Option &x : *list) {
        uint64_t v = 0;
        if (x.type != o::interface_id || !id_value(x, v)) {
            reply.reject(x);   // IPv6-Compression-Protocol, unknown, malformed
            continue;
        }
        if (v == 0 || v == local_) {
            std::vector<uint8_t> nak;
            put_id(nak, new_id());
            reply.nak(x, std::span<const uint8_t>(nak).subspan(2));
        } else {
            peer = v;
        }
    }
    if (reply.acknowledges())
        peer_ = peer;
    return reply.finish(options, reject_instead_of_nak);
}

bool Ipv6cpOptions::on_ack(std::span<const uint8_t> options) const
{
    auto sent = request();
    return std::ranges::equal(sent, options);
}

bool Ipv6cpOptions::on_nak(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list) {
        uint64_t v = 0;
        if (x.type == o::interface_id && asking_ && id_value(x, v) && v != 0 && v != peer_)
            local_ = v;
    }
    return true;
}

bool Ipv6cpOptions::on_reject(std::span<const uint8_t> options)
{
    auto list = parse_options(options);
    if (!list)
        return false;
    for (const Option &x : *list)
        if (x.type != o::interface_id || !asking_)
            return false;
    asking_ = false;
    return true;
}

} // namespace alopex::slirp::ppp
