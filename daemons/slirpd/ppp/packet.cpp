// SPDX-License-Identifier: GPL-2.0-or-later
#include "packet.hpp"

#include <algorithm>
#include <cerrno>

namespace alopex::slirp::ppp {

Result<Packet> parse_packet(std::span<const uint8_t> info)
{
    if (info.size() < packet_header)
        return failf(EBADMSG, "control packet: {} octets, shorter than its header", info.size());
    size_t length = size_t{info[2]} << 8 | info[3];
    if (length < packet_header)
        return failf(EBADMSG, "control packet: length {} is below the header's 4", length);
    if (length > info.size())
        return failf(EBADMSG, "control packet: length {} runs past the {} octets received", length, info.size());
    Packet p;
    p.code = info[0];
    p.id = info[1];
    p.whole = info.first(length);
    p.data = p.whole.subspan(packet_header);
    return p;
}

void build_packet(std::vector<uint8_t> &out, uint8_t code, uint8_t id, std::span<const uint8_t> data)
{
    data = data.first(std::min<size_t>(data.size(), 0xFFFF - packet_header));
    size_t length = packet_header + data.size();
    out.push_back(code);
    out.push_back(id);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length));
    out.insert(out.end(), data.begin(), data.end());
}

Result<std::vector<Option>> parse_options(std::span<const uint8_t> data)
{
    std::vector<Option> out;
    size_t at = 0;
    while (at < data.size()) {
        if (data.size() - at < 2)
            return failf(EBADMSG, "option at octet {}: only {} octet left", at, data.size() - at);
        size_t len = data[at + 1];
        if (len < 2)
            return failf(EBADMSG, "option {} at octet {}: length {} is below 2", data[at], at, len);
        if (len > data.size() - at)
            return failf(EBADMSG, "option {} at octet {}: length {} runs past the packet", data[at], at, len);
        Option o;
        o.type = data[at];
        o.whole = data.subspan(at, len);
        o.value = o.whole.subspan(2);
        out.push_back(o);
        at += len;
    }
    return out;
}

void put_option(std::vector<uint8_t> &out, uint8_t type, std::span<const uint8_t> value)
{
    value = value.first(std::min<size_t>(value.size(), 253));
    out.push_back(type);
    out.push_back(static_cast<uint8_t>(2 + value.size()));
    out.insert(out.end(), value.begin(), value.end());
}

void put_option_u16(std::vector<uint8_t> &out, uint8_t type, uint16_t value)
{
    const uint8_t v[] = {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
    put_option(out, type, v);
}

void put_option_u32(std::vector<uint8_t> &out, uint8_t type, uint32_t value)
{
    const uint8_t v[] = {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                         static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
    put_option(out, type, v);
}

bool value_u16(const Option &o, uint16_t &v)
{
    if (o.value.size() != 2)
        return false;
    v = static_cast<uint16_t>(o.value[0] << 8 | o.value[1]);
    return true;
}

bool value_u32(const Option &o, uint32_t &v)
{
    if (o.value.size() != 4)
        return false;
    v = uint32_t{o.value[0]} << 24 | uint32_t{o.value[1]} << 16 | uint32_t{o.value[2]} << 8 | o.value[3];
    return true;
}

} // namespace alopex::slirp::ppp
