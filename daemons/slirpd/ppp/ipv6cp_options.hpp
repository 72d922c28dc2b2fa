// SPDX-License-Identifier: GPL-2.0-or-later
// IPV6CP's configuration options (RFC 5072), pure: the Interface-Identifiers that make
// each end's link-local address (fe80::/64 and the identifier).
//
// Ours: Interface-Identifier, a random non-zero one (or the configured one). A Nak's
// identifier is taken when it is not zero and not the peer's; a Reject stops asking
// (ours stays what it was).
// Theirs: an Interface-Identifier of zero (the peer wants one) or equal to ours (a
// collision) is Naked with a new random one; any other is acknowledged and becomes the
// peer's. IPv6-Compression-Protocol and anything unknown are rejected. With
// reject_instead_of_nak, what would be Naked is rejected instead.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "packet.hpp"

namespace alopex::slirp::ppp {

inline constexpr uint16_t proto_ipv6cp = 0x8057;
inline constexpr uint16_t proto_ipv6 = 0x0057;

namespace ipv6cp_option {
inline constexpr uint8_t interface_id = 1;
inline constexpr uint8_t compression = 2;
} // namespace ipv6cp_option

struct Ipv6cpConfig {
    bool enabled = false;      // off: IPV6CP is Protocol-Rejected, as by a pppd without +ipv6
    uint64_t local_id = 0;     // 0: a random one
};

class Ipv6cpOptions {
public:
    Ipv6cpOptions(Ipv6cpConfig config, std::function<uint32_t()> random);

    void reset();
    std::vector<uint8_t> request() const;
    Result<ConfigureReply> on_request(std::span<const uint8_t> options, bool reject_instead_of_nak);
    bool on_ack(std::span<const uint8_t> options) const;
    bool on_nak(std::span<const uint8_t> options);
    bool on_reject(std::span<const uint8_t> options);

    // Once IPV6CP is Opened: our identifier and the peer's (0: its request named none).
    uint64_t local_id() const noexcept { return local_; }
    uint64_t peer_id() const noexcept { return peer_; }

private:
    uint64_t new_id();

    Ipv6cpConfig config_;
    std::function<uint32_t()> random_;
    uint64_t local_ = 0, peer_ = 0;
    bool asking_ = true;
};

// fe80::ID, as 16 octets.
std::array<uint8_t, 16> link_local(uint64_t interface_id);

} // namespace alopex::slirp::ppp
