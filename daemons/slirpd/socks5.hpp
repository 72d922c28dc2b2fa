// SPDX-License-Identifier: GPL-2.0-or-later
// The client side of a SOCKS5 CONNECT (RFC 1928), with username/password authentication
// (RFC 1929) when configured, pure: bytes from the proxy in, bytes for it out. slirpd
// uses it for the peer's TCP connections to destinations no port map covers ([socks5]
// of alopex-slirp.toml(5)). Everything the proxy sends is checked: a method or version
// it was not offered, a reply that is malformed or longer than a reply can be, is a
// failure; so is a refusal, reported with the RFC 1928 reply code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace alopex::slirp {

struct Socks5Auth {
    std::string username, password;   // 1..255 octets each (RFC 1929)
};

class Socks5Client {
public:
    enum class Status : uint8_t { More, Send, Connected, Failed };
    struct Step {
        Status status = Status::More;
        std::vector<uint8_t> send;    // Send: to the proxy, then wait for more
        uint8_t reply = 0;            // Failed on a refusal: RFC 1928's REP (1..8); 0 otherwise
        std::string what;             // Failed: why, for the log
    };
    Socks5Client(uint32_t address, uint16_t port, std::optional<Socks5Auth> auth)
        : address_(address), port_(port), auth_(std::move(auth)) {}

    // The greeting: version 5 and the methods offered (no authentication, or
    // username/password alone when configured).
    std::vector<uint8_t> start() const;
    // Bytes from the proxy (any split). After Connected, leftover() holds what came
    // after the reply (the destination's first data).
    Step input(std::span<const uint8_t> bytes);
    std::span<const uint8_t> leftover() const noexcept { return buf_; }

private:
    enum class Phase : uint8_t { Method, Auth, Reply, Done };
    Step fail(std::string what, uint8_t reply = 0);
    std::vector<uint8_t> connect_request() const;

    uint32_t address_;
    uint16_t port_;
    std::optional<Socks5Auth> auth_;
    Phase phase_ = Phase::Method;
    std::vector<uint8_t> buf_;
};

// RFC 1928's reply codes by name, for the log.
const char *socks5_reply_text(uint8_t rep);

} // namespace alopex::slirp
