// SPDX-License-Identifier: GPL-2.0-or-later
// Control protocol packets (RFC 1661 §5: LCP, and the NCPs such as IPCP that use the same
// format) and their configuration options (§6), pure. Parsing never trusts a length: a
// packet's Length must cover its header and fit the frame (octets past it are padding,
// RFC 1661 §5), each option's Length must be at least 2 and fit the packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::slirp::ppp {

enum class Code : uint8_t {
    ConfigureRequest = 1,
    ConfigureAck = 2,
    ConfigureNak = 3,
    ConfigureReject = 4,
    TerminateRequest = 5,
    TerminateAck = 6,
    CodeReject = 7,
    ProtocolReject = 8,   // LCP only
    EchoRequest = 9,      // LCP only
    EchoReply = 10,       // LCP only
    DiscardRequest = 11,  // LCP only
    ResetRequest = 14,    // CCP only (RFC 1962 §5.1)
    ResetAck = 15,        // CCP only
};

inline constexpr size_t packet_header = 4;   // code, identifier, length (16 bits)

struct Packet {
    uint8_t code = 0;
    uint8_t id = 0;
    std::span<const uint8_t> data;   // after the header, up to Length
    std::span<const uint8_t> whole;  // header and data (what a Code-Reject returns)
};

// A packet in a frame's information field.
Result<Packet> parse_packet(std::span<const uint8_t> info);

// Appends a packet; `data` longer than 65535 - 4 octets is cut there.
void build_packet(std::vector<uint8_t> &out, uint8_t code, uint8_t id, std::span<const uint8_t> data);

struct Option {
    uint8_t type = 0;
    std::span<const uint8_t> value;   // after type and length
    std::span<const uint8_t> whole;   // type, length and value (what a Nak or Reject echoes)
};

// The options of a Configure-Request/Ack/Nak/Reject, in order. An option whose length is
// below 2 or runs past the data makes the whole list malformed (RFC 1661 §5.1: such a
// packet is silently discarded).
Result<std::vector<Option>> parse_options(std::span<const uint8_t> data);

// Appends one option; `value` is at most 253 octets (cut there).
void put_option(std::vector<uint8_t> &out, uint8_t type, std::span<const uint8_t> value);
void put_option_u16(std::vector<uint8_t> &out, uint8_t type, uint16_t value);
void put_option_u32(std::vector<uint8_t> &out, uint8_t type, uint32_t value);

// Big-endian values of an option (false when the value is not exactly that long).
bool value_u16(const Option &o, uint16_t &v);
bool value_u32(const Option &o, uint32_t &v);

struct ConfigureReply {
    Code code = Code::ConfigureAck;
    std::vector<uint8_t> options;   // what the Ack, Nak or Reject carries
};

// The answer to a Configure-Request, collected option by option (RFC 1661 §5.2-5.4): a
// Reject wins and carries the rejected options as the peer sent them; otherwise a Nak
// carries the values suggested instead (at max-failure it becomes a Reject of those
// options, as sent); otherwise the whole request is acknowledged.
class ReplyBuilder {
public:
    void reject(const Option &o);
    void nak(const Option &o, std::span<const uint8_t> value);
    void nak_u16(const Option &o, uint16_t value);
    void nak_u32(const Option &o, uint32_t value);
    bool acknowledges() const noexcept { return rejects_.empty() && naks_.empty(); }
    ConfigureReply finish(std::span<const uint8_t> request, bool reject_instead_of_nak);

private:
    std::vector<uint8_t> rejects_, naks_;
    std::vector<const Option *> naked_;
};

} // namespace alopex::slirp::ppp
