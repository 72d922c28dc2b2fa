// SPDX-License-Identifier: GPL-2.0-or-later
// Authentication of the peer (slirpd as the authenticator), pure: PAP (RFC 1334 §2) and
// CHAP with MD5 (RFC 1994), once LCP has agreed which (lcp_options.hpp). The peer's
// name picks its secret from the configured secrets (pppd's pap-secrets/chap-secrets
// format, secrets.hpp).
//
// PAP: the peer sends Authenticate-Request (its name and password); a known name with
// its password gets Authenticate-Ack, anything else Authenticate-Nak and the link
// fails. A request repeated after the Ack (the Ack was lost) is acknowledged again.
// No request within `pap_timeout` fails the link.
// CHAP: we send a Challenge (16 random octets and our name), again every `restart`
// until a Response with its identifier comes, at most `max_challenges` times. The
// Response's value must be MD5(identifier, secret, challenge) for the secret of the
// name it carries: Success, else Failure and the link fails. A Response repeated after
// the Success is answered with Success again. Secrets are compared in constant time
// (their digests, so that not even their lengths show); names are looked up in a map
// (a name is not a secret).
//
// Hostile input (short packets, lengths past the end, unknown codes, a Response with
// another identifier or value size) is discarded and counted; nothing is trusted.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hdlc.hpp"

namespace alopex::slirp::ppp {

inline constexpr uint8_t chap_md5 = 5;   // CHAP's algorithm in LCP's option (proto_chap: hdlc.hpp)

// What the link needs to authenticate the peer.
struct AuthConfig {
    std::vector<uint16_t> protocols;   // proto_chap, proto_pap in preference order; empty: none
    std::string name = "alopex-slirpd";   // ours, in CHAP's Challenge
    std::map<std::string, std::string> secrets;   // the peer's name -> its secret
    uint64_t restart_usec = 3'000'000;
    unsigned max_challenges = 10;
    uint64_t pap_timeout_usec = 30'000'000;
};

struct AuthStats {
    uint64_t packets_in = 0, discarded = 0, challenges = 0;
    uint64_t successes = 0, failures = 0;
};

class Authenticator {
public:
    enum class Status : uint8_t { Pending, Succeeded, Failed };
    using Send = std::function<void(uint16_t protocol, std::vector<uint8_t> info)>;

    // `protocol` is proto_pap or proto_chap; `done` is called once, when the peer has
    // passed or failed.
    Authenticator(uint16_t protocol, const AuthConfig &config, std::function<uint32_t()> random, Send send,
                  std::function<void(bool passed)> done);

    void start(uint64_t now);
    // A PAP or CHAP packet (the information field of a frame of `protocol`).
    void input(std::span<const uint8_t> info, uint64_t now);
    void advance(uint64_t now);
    uint64_t next_deadline() const noexcept { return deadline_ ? deadline_ : UINT64_MAX; }

    uint16_t protocol() const noexcept { return protocol_; }
    Status status() const noexcept { return status_; }
    const std::string &peer_name() const noexcept { return peer_; }   // as it named itself
    const std::string &reason() const noexcept { return reason_; }    // why it failed
    const AuthStats &stats() const noexcept { return stats_; }

private:
    void pap_input(uint8_t code, uint8_t id, std::span<const uint8_t> data);
    void chap_input(uint8_t code, uint8_t id, std::span<const uint8_t> data);
    void send_challenge(uint64_t now);
    void reply(uint8_t code, uint8_t id, std::string_view message);
    void finish(bool passed, std::string reason);
    // The secret of `name`, or nullptr.
    const std::string *secret_of(std::string_view name) const;

    uint16_t protocol_;
    const AuthConfig &config_;
    std::function<uint32_t()> random_;
    Send send_;
    std::function<void(bool)> done_;
    Status status_ = Status::Pending;
    std::string peer_, reason_;
    std::vector<uint8_t> challenge_;
    uint8_t id_ = 0;
    unsigned challenges_ = 0;
    uint64_t deadline_ = 0;
    AuthStats stats_;
};

// MD5(id, secret, challenge): a CHAP Response's value (RFC 1994 §4.1); nullopt when
// libcrypto cannot (MD5 refused, as in FIPS mode): then nobody passes.
std::optional<std::array<uint8_t, 16>> chap_md5_response(uint8_t id, std::string_view secret,
                                                         std::span<const uint8_t> challenge);

} // namespace alopex::slirp::ppp
