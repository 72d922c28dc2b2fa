// SPDX-License-Identifier: GPL-2.0-or-later
#include "packet.hpp"

#include <algorithm>
#include <cerrno>

#include "wire.hpp"

namespace alopex::slirp::ppp {

Result<Packet> parse_packet(std::span<const uint8_t> info)
{
    if (info.size() < packet_header)
        return failf(EBADMSG, "control packet: {} octets, shorter than its header", info.size());
    size_t length = wire::be16(&info[2]);
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
    wire::put16(out, static_cast<uint16_t>(length));
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
    std::vector<uint8_t> v;
    wire::put16(v, value);
    put_option(out, type, v);
}

void put_option_u32(std::vector<uint8_t> &out, uint8_t type, uint32_t value)
{
    std::vector<uint8_t> v;
    wire::put32(v, value);
    put_option(out, type, v);
}

bool value_u16(const Option &o, uint16_t &v)
{
    if (o.value.size() != 2)
        return false;
    v = wire::be16(o.value.data());
    return true;
}

bool value_u32(const Option &o, uint32_t &v)
{
    if (o.value.size() != 4)
        return false;
    v = wire::be32(o.value.data());
    return true;
}

void ReplyBuilder::reject(const Option &o) { rejects_.insert(rejects_.end(), o.whole.begin(), o.whole.end()); }

void ReplyBuilder::nak(const Option &o, std::span<const uint8_t> value)
{
    naked_.push_back(&o);
    put_option(naks_, o.type, value);
}

void ReplyBuilder::nak_u16(const Option &o, uint16_t value)
{
    naked_.push_back(&o);
    put_option_u16(naks_, o.type, value);
}

void ReplyBuilder::nak_u32(const Option &o, uint32_t value)
{
    naked_.push_back(&o);
    put_option_u32(naks_, o.type, value);
}

ConfigureReply ReplyBuilder::finish(std::span<const uint8_t> request, bool reject_instead_of_nak)
{
    if (naks_.empty() && rejects_.empty())
        return {Code::ConfigureAck, std::vector<uint8_t>(request.begin(), request.end())};
    if (rejects_.empty() && !reject_instead_of_nak)
        return {Code::ConfigureNak, std::move(naks_)};
    if (rejects_.empty())
        for (const Option *o : naked_)   // max-failure: what we keep Naking, as sent
            reject(*o);
    return {Code::ConfigureReject, std::move(rejects_)};
}

} // namespace alopex::slirp::ppp
