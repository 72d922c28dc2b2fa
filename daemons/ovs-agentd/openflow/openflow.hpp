// SPDX-License-Identifier: GPL-2.0-or-later
// The few OpenFlow 1.3 messages the agent's base flows need (OpenFlow Switch
// Specification 1.3.5), pure: encoders for HELLO, ECHO_REPLY, FLOW_MOD (add with a match
// of EtherType and an IPv4/IPv6 destination prefix and one OUTPUT action; delete by
// cookie) and BARRIER_REQUEST; a framer for the switch's byte stream; decoders for the header,
// HELLO's version bitmap and ERROR. Every length is checked against what arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/net.hpp"

namespace alopex::ovs::openflow {

inline constexpr uint8_t version = 0x04;   // OpenFlow 1.3
inline constexpr size_t header_size = 8;
inline constexpr size_t max_message = 65535;

enum Type : uint8_t {
    hello = 0,
    error = 1,
    echo_request = 2,
    echo_reply = 3,
    features_request = 5,
    flow_mod = 14,
    barrier_request = 20,
    barrier_reply = 21,
};

inline constexpr uint32_t port_normal = 0xfffffffa;   // OFPP_NORMAL
inline constexpr uint32_t port_local = 0xfffffffe;    // OFPP_LOCAL

struct Header {
    uint8_t version = 0;
    uint8_t type = 0;
    uint16_t length = 0;
    uint32_t xid = 0;
};

// One message of the stream: its header and the body after it.
struct Message {
    Header header;
    std::vector<std::byte> body;
};

// Cuts a byte stream into messages. A header whose length is under 8 is an error (the
// stream cannot be resynchronised: the connection is to be closed).
class Framer {
public:
    Result<> feed(std::span<const std::byte> bytes);
    std::optional<Message> next();
    size_t buffered() const noexcept { return buf_.size() - at_; }

private:
    std::vector<std::byte> buf_;
    size_t at_ = 0;
    bool broken_ = false;
};

Header parse_header(std::span<const std::byte, header_size> bytes);

// HELLO offering OpenFlow 1.3 only (a version bitmap element).
std::vector<std::byte> hello_message(uint32_t xid);
// Whether a peer's HELLO allows 1.3: its version bitmap when it has one, else its header's
// version (>= 1.3, as OpenFlow negotiates without bitmaps).
Result<> accept_hello(const Message &m);

std::vector<std::byte> echo_reply_message(const Message &request);
std::vector<std::byte> barrier_message(uint32_t xid);

// A flow of table 0: all traffic (no prefix), or IPv4/IPv6 to `dst`.
struct Flow {
    uint64_t cookie = 0;
    uint16_t priority = 0;
    std::optional<net::Prefix> dst;
    uint32_t out_port = 0;
    bool operator==(const Flow &) const = default;
};
std::vector<std::byte> flow_add_message(uint32_t xid, const Flow &f);
// Removes every flow of every table with that cookie.
std::vector<std::byte> flow_delete_cookie_message(uint32_t xid, uint64_t cookie);

// ERROR's type and code, and as text ("OFPET_BAD_MATCH code 5").
struct ErrorMessage {
    uint16_t type = 0, code = 0;
    std::string text() const;
};
Result<ErrorMessage> parse_error(const Message &m);

} // namespace alopex::ovs::openflow
