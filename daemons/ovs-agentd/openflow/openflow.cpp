// SPDX-License-Identifier: GPL-2.0-or-later
#include "openflow.hpp"

#include <cstring>

#include <fmt/format.h>

namespace alopex::ovs::openflow {

namespace {

constexpr uint16_t hello_elem_versionbitmap = 1;
constexpr uint16_t match_type_oxm = 1;
constexpr uint16_t oxm_class_basic = 0x8000;
constexpr uint8_t oxm_eth_type = 5, oxm_ipv4_dst = 12, oxm_ipv6_dst = 27;
constexpr uint16_t instruction_apply_actions = 4;
constexpr uint16_t action_output = 0;
constexpr uint8_t command_add = 0, command_delete = 3;
constexpr uint8_t table_all = 0xff;
constexpr uint32_t no_buffer = 0xffffffff, any = 0xffffffff;

class Writer {
public:
    void u8(uint8_t v) { out_.push_back(std::byte{v}); }
    void u16(uint16_t v) { u8(uint8_t(v >> 8)), u8(uint8_t(v)); }
    void u32(uint32_t v) { u16(uint16_t(v >> 16)), u16(uint16_t(v)); }
    void u64(uint64_t v) { u32(uint32_t(v >> 32)), u32(uint32_t(v)); }
    void bytes(std::span<const uint8_t> b)
    {
        for (auto x : b)
            u8(x);
    }
    void zeros(size_t n) { out_.insert(out_.end(), n, std::byte{0}); }
    void pad8() { zeros((8 - out_.size() % 8) % 8); }
    size_t size() const { return out_.size(); }
    void put16(size_t at, uint16_t v)
    {
        out_[at] = std::byte(v >> 8);
        out_[at + 1] = std::byte(v & 0xff);
    }
    std::vector<std::byte> take() { return std::move(out_); }

private:
    std::vector<std::byte> out_;
};

uint16_t get16(std::span<const std::byte> b, size_t at)
{
    return uint16_t(uint16_t(b[at]) << 8 | uint16_t(b[at + 1]));
}

uint32_t get32(std::span<const std::byte> b, size_t at)
{
    return uint32_t(get16(b, at)) << 16 | get16(b, at + 2);
}

void header(Writer &w, Type type, uint32_t xid)
{
    w.u8(version);
    w.u8(type);
    w.u16(0);   // the length, set by finish()
    w.u32(xid);
}

std::vector<std::byte> finish(Writer &w)
{
    w.put16(2, uint16_t(w.size()));
    return w.take();
}

// The prefix's netmask in bytes (16 for IPv6, 4 for IPv4).
std::vector<uint8_t> mask_of(const net::Prefix &p)
{
    size_t n = p.family() == AF_INET ? 4 : 16;
    std::vector<uint8_t> m(n, 0);
    for (unsigned bit = 0; bit < p.length(); ++bit)
        m[bit / 8] |= uint8_t(0x80 >> (bit % 8));
    return m;
}

void oxm(Writer &w, uint8_t field, bool masked, std::span<const uint8_t> value, std::span<const uint8_t> mask = {})
{
    w.u16(oxm_class_basic);
    w.u8(uint8_t(field << 1 | (masked ? 1 : 0)));
    w.u8(uint8_t(value.size() + mask.size()));
    w.bytes(value);
    w.bytes(mask);
}

void match(Writer &w, const std::optional<net::Prefix> &dst)
{
    size_t start = w.size();
    w.u16(match_type_oxm);
    w.u16(0);
    if (dst) {
        bool v4 = dst->family() == AF_INET;
        uint8_t ethertype[2] = {uint8_t(v4 ? 0x08 : 0x86), uint8_t(v4 ? 0x00 : 0xdd)};
        oxm(w, oxm_eth_type, false, ethertype);
        net::Prefix network = dst->network();
        bool full = dst->is_host();
        auto mask = mask_of(*dst);
        oxm(w, v4 ? oxm_ipv4_dst : oxm_ipv6_dst, !full, network.address().bytes(),
            full ? std::span<const uint8_t>() : std::span<const uint8_t>(mask));
    }
    w.put16(start + 2, uint16_t(w.size() - start));   // the match's length leaves its padding out
    w.pad8();
}

std::vector<std::byte> flow_message(uint32_t xid, const Flow &f, uint8_t command, uint8_t table = 0)
{
    Writer w;
    header(w, flow_mod, xid);
    w.u64(f.cookie);
    w.u64(command == command_add ? 0 : ~uint64_t{0});   // cookie_mask: a delete matches our cookie
    w.u8(table);
    w.u8(command);
    w.u16(0);   // idle_timeout
    w.u16(0);   // hard_timeout
    w.u16(f.priority);
    w.u32(no_buffer);
    w.u32(command == command_add ? 0 : any);   // out_port
    w.u32(command == command_add ? 0 : any);   // out_group
    w.u16(0);   // flags
    w.zeros(2);
    match(w, f.dst);
    if (command == command_add) {
        w.u16(instruction_apply_actions);
        w.u16(8 + 16);
        w.zeros(4);
        w.u16(action_output);
        w.u16(16);
        w.u32(f.out_port);
        w.u16(0xffff);   // max_len: OFPCML_NO_BUFFER
        w.zeros(6);
    }
    return finish(w);
}

} // namespace

Header parse_header(std::span<const std::byte, header_size> b)
{
    return Header{uint8_t(b[0]), uint8_t(b[1]), get16(b, 2), get32(b, 4)};
}

Result<> Framer::feed(std::span<const std::byte> bytes)
{
    if (broken_)
        return failf(EPROTO, "the OpenFlow stream is broken");
    if (at_ > 0 && at_ == buf_.size()) {
        buf_.clear();
        at_ = 0;
    }
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    return {};
}

std::optional<Message> Framer::next()
{
    if (broken_ || buf_.size() - at_ < header_size)
        return std::nullopt;
    std::span<const std::byte> rest(buf_.data() + at_, buf_.size() - at_);
    Header h = parse_header(rest.first<header_size>());
    if (h.length < header_size) {
        broken_ = true;
        return Message{h, {}};   // the caller sees the bad length and closes
    }
    if (rest.size() < h.length)
        return std::nullopt;
    Message m{h, std::vector<std::byte>(rest.begin() + header_size, rest.begin() + h.length)};
    at_ += h.length;
    if (at_ > 65536 && at_ * 2 > buf_.size()) {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(at_));
        at_ = 0;
    }
    return m;
}

std::vector<std::byte> hello_message(uint32_t xid)
{
    Writer w;
    header(w, hello, xid);
    w.u16(hello_elem_versionbitmap);
    w.u16(8);
    w.u32(uint32_t{1} << version);
    return finish(w);
}

Result<> accept_hello(const Message &m)
{
    if (m.header.type != hello)
        return failf(EPROTO, "the switch's first message is type {}, not HELLO", m.header.type);
    std::span<const std::byte> b = m.body;
    for (size_t at = 0; at + 4 <= b.size();) {
        uint16_t type = get16(b, at), len = get16(b, at + 2);
        if (len < 4 || at + len > b.size())
            return failf(EPROTO, "HELLO: an element of length {} at {} of {} bytes", len, at, b.size());
        if (type == hello_elem_versionbitmap) {
            if (len < 8)
                return failf(EPROTO, "HELLO: a version bitmap of {} bytes", len);
            if (!(get32(b, at + 4) & (uint32_t{1} << version)))
                return failf(EPROTONOSUPPORT, "the switch does not speak OpenFlow 1.3 (its versions: {:#x})",
                             get32(b, at + 4));
            return {};
        }
        at += (len + 7u) / 8 * 8;
    }
    if (m.header.version < version)
        return failf(EPROTONOSUPPORT, "the switch speaks OpenFlow version {:#x}, not 1.3", m.header.version);
    return {};
}

std::vector<std::byte> echo_reply_message(const Message &request)
{
    Writer w;
    header(w, echo_reply, request.header.xid);
    for (auto b : request.body)
        w.u8(uint8_t(b));
    return finish(w);
}

std::vector<std::byte> barrier_message(uint32_t xid)
{
    Writer w;
    header(w, barrier_request, xid);
    return finish(w);
}

std::vector<std::byte> flow_add_message(uint32_t xid, const Flow &f)
{
    return flow_message(xid, f, command_add);
}

std::vector<std::byte> flow_delete_cookie_message(uint32_t xid, uint64_t cookie)
{
    return flow_message(xid, Flow{cookie, 0, std::nullopt, 0}, command_delete, table_all);
}

std::string ErrorMessage::text() const
{
    static const char *const names[] = {"OFPET_HELLO_FAILED",       "OFPET_BAD_REQUEST",      "OFPET_BAD_ACTION",
                                        "OFPET_BAD_INSTRUCTION",    "OFPET_BAD_MATCH",        "OFPET_FLOW_MOD_FAILED",
                                        "OFPET_GROUP_MOD_FAILED",   "OFPET_PORT_MOD_FAILED",  "OFPET_TABLE_MOD_FAILED",
                                        "OFPET_QUEUE_OP_FAILED",    "OFPET_SWITCH_CONFIG_FAILED",
                                        "OFPET_ROLE_REQUEST_FAILED", "OFPET_METER_MOD_FAILED", "OFPET_TABLE_FEATURES_FAILED"};
    std::string t = type < std::size(names) ? names[type] : fmt::format("error type {}", type);
    return fmt::format("{} code {}", t, code);
}

Result<ErrorMessage> parse_error(const Message &m)
{
    if (m.header.type != error || m.body.size() < 4)
        return failf(EPROTO, "an ERROR of {} bytes", m.body.size());
    return ErrorMessage{get16(m.body, 0), get16(m.body, 2)};
}

} // namespace alopex::ovs::openflow
