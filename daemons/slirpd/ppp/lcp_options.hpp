// SPDX-License-Identifier: GPL-2.0-or-later
// LCP's configuration options (RFC 1661 §6, ACCM from RFC 1662 §7.1), pure: what our
// Configure-Request asks for, how the peer's is answered, and what a Nak or Reject of
// ours changes. The automaton (fsm.hpp) decides when; this decides what.
//
// Ours (how the peer sends to us): MRU (asked only when it is not 1500), ACCM, a random
// Magic-Number, PFC and ACFC, as pppd asks. A Nak is followed where it can be (a
// smaller MRU down to 128, more ACCM bits, a new magic), anything else stops asking
// for that option; a Reject stops asking for it.
// Theirs (how we send to the peer): MRU of 128 or more, any ACCM, a Magic-Number that is
// not zero and not ours (ours coming back means the line may be looped back: Nak with a
// new value and count it), PFC and ACFC are acknowledged. Authentication (slirpd does
// not authenticate itself), Quality-Protocol, anything unknown and any known option with
// a wrong length are rejected.
// Authentication of the peer (LcpWants::auth, auth.hpp): our request asks for the first
// protocol of the list (CHAP with MD5, or PAP); a Nak suggesting another of the list is
// followed, one suggesting anything else moves to the next of the list (or asks again
// for the last, until LCP gives up); a Reject is a peer that refuses to authenticate:
// auth_refused(), and the link must not go on. With reject_instead_of_nak (the
// automaton's max-failure), what would be Naked is rejected instead.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "packet.hpp"

namespace alopex::slirp::ppp {

namespace lcp_option {
inline constexpr uint8_t mru = 1;
inline constexpr uint8_t accm = 2;
inline constexpr uint8_t auth_protocol = 3;
inline constexpr uint8_t quality_protocol = 4;
inline constexpr uint8_t magic_number = 5;
inline constexpr uint8_t pfc = 7;
inline constexpr uint8_t acfc = 8;
} // namespace lcp_option

inline constexpr uint16_t default_mru = 1500;
inline constexpr uint16_t min_mru = 128;

struct LcpWants {
    uint16_t mru = default_mru;   // what we can receive
    uint32_t accm = 0;            // control characters we need escaped (XON/XOFF flow control: 0x000A0000)
    bool magic = true;
    bool pfc = true;
    bool acfc = true;
    std::vector<uint16_t> auth;   // proto_chap (MD5), proto_pap in preference; empty: none
};

// What is in force once LCP is Opened.
struct LcpSettings {
    // The peer sends to us as our acknowledged request says.
    uint16_t receive_mru = default_mru;
    uint32_t receive_accm = 0xFFFFFFFF;
    bool receive_pfc = false, receive_acfc = false;
    uint32_t our_magic = 0;
    // We send to the peer as its acknowledged request says.
    uint16_t send_mru = default_mru;
    uint32_t send_accm = 0xFFFFFFFF;
    bool send_pfc = false, send_acfc = false;
    uint32_t peer_magic = 0;
    uint16_t auth = 0;   // the protocol the peer authenticates with (our request acknowledged); 0: none
};

class LcpOptions {
public:
    // `random` gives the magic numbers (never 0 is used: 0 draws again).
    LcpOptions(LcpWants wants, std::function<uint32_t()> random);

    // A new negotiation: everything asked for again (the send side stays until the
    // peer's next acknowledged request).
    void reset();

    // Our Configure-Request's options.
    std::vector<uint8_t> request() const;

    // The peer's Configure-Request; the reply to send. Acknowledging fixes the send side.
    // Fails for a malformed option list (the packet is then silently discarded).
    Result<ConfigureReply> on_request(std::span<const uint8_t> options, bool reject_instead_of_nak);

    // The peer's Ack, Nak or Reject of our last request: false when it does not fit what
    // we sent (RFC 1661 §5.2-5.4: the packet is then silently discarded).
    bool on_ack(std::span<const uint8_t> options);
    bool on_nak(std::span<const uint8_t> options);
    bool on_reject(std::span<const uint8_t> options);

    const LcpSettings &settings() const noexcept { return settings_; }
    // Configure-Requests that carried our own magic number back (a looped-back line).
    unsigned loopbacks() const noexcept { return loopbacks_; }
    // We want the peer to authenticate but it rejected the option.
    bool auth_refused() const noexcept { return !wants_.auth.empty() && !asking_.auth; }

private:
    struct Asking {
        bool mru = false, accm = true, magic = true, pfc = true, acfc = true, auth = false;
        size_t auth_index = 0;   // in wants_.auth
        uint16_t mru_value = default_mru;
        uint32_t accm_value = 0;
        uint32_t magic_value = 0;
    };
    uint32_t new_magic();

    LcpWants wants_;
    std::function<uint32_t()> random_;
    Asking asking_;
    LcpSettings settings_;
    unsigned loopbacks_ = 0;
};

} // namespace alopex::slirp::ppp
