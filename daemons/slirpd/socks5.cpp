// SPDX-License-Identifier: GPL-2.0-or-later
#include "socks5.hpp"

#include <fmt/format.h>

namespace alopex::slirp {

namespace {
constexpr uint8_t version = 5, no_auth = 0x00, user_pass = 0x02, no_acceptable = 0xFF;
constexpr uint8_t cmd_connect = 1, atyp_ipv4 = 1, atyp_domain = 3, atyp_ipv6 = 4;
} // namespace

const char *socks5_reply_text(uint8_t rep)
{
    static const char *names[] = {"succeeded", "general failure", "not allowed by ruleset", "network unreachable",
                                  "host unreachable", "connection refused", "TTL expired", "command not supported",
                                  "address type not supported"};
    return rep < sizeof names / sizeof names[0] ? names[rep] : "unassigned reply";
}

std::vector<uint8_t> Socks5Client::start() const
{
    return {version, 1, auth_ ? user_pass : no_auth};
}

std::vector<uint8_t> Socks5Client::connect_request() const
{
    return {version,
            cmd_connect,
            0,
            atyp_ipv4,
            static_cast<uint8_t>(address_ >> 24),
            static_cast<uint8_t>(address_ >> 16),
            static_cast<uint8_t>(address_ >> 8),
            static_cast<uint8_t>(address_),
            static_cast<uint8_t>(port_ >> 8),
            static_cast<uint8_t>(port_)};
}

Socks5Client::Step Socks5Client::fail(std::string what, uint8_t reply)
{
    phase_ = Phase::Done;
    buf_.clear();
    return {Status::Failed, {}, reply, std::move(what)};
}

Socks5Client::Step Socks5Client::input(std::span<const uint8_t> bytes)
{
    if (phase_ == Phase::Done)
        return fail("data after the handshake ended");
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    switch (phase_) {
    case Phase::Method: {
        if (buf_.size() < 2)
            return {};
        if (buf_[0] != version)
            return fail(fmt::format("not a SOCKS5 proxy (version {})", buf_[0]));
        uint8_t method = buf_[1];
        if (method == no_acceptable)
            return fail(auth_ ? "the proxy does not take username/password" : "the proxy wants authentication");
        if (method != (auth_ ? user_pass : no_auth))
            return fail(fmt::format("the proxy chose method {}, which was not offered", method));
        buf_.erase(buf_.begin(), buf_.begin() + 2);
        if (!buf_.empty())
            return fail("the proxy sent more than its method choice");
        if (!auth_) {
            phase_ = Phase::Reply;
            return {Status::Send, connect_request(), 0, {}};
        }
        // RFC 1929: version 1, the username, the password, each with its length.
        std::vector<uint8_t> out{1, static_cast<uint8_t>(auth_->username.size())};
        out.insert(out.end(), auth_->username.begin(), auth_->username.end());
        out.push_back(static_cast<uint8_t>(auth_->password.size()));
        out.insert(out.end(), auth_->password.begin(), auth_->password.end());
        phase_ = Phase::Auth;
        return {Status::Send, std::move(out), 0, {}};
    }
    case Phase::Auth:
        if (buf_.size() < 2)
            return {};
        if (buf_[0] != 1)
            return fail(fmt::format("a bad authentication reply (version {})", buf_[0]));
        if (buf_[1] != 0)
            return fail("the proxy refused the username and password");
        buf_.erase(buf_.begin(), buf_.begin() + 2);
        if (!buf_.empty())
            return fail("the proxy sent more than its authentication reply");
        phase_ = Phase::Reply;
        return {Status::Send, connect_request(), 0, {}};
    case Phase::Reply: {
        if (buf_.size() < 5)
            return {};
        if (buf_[0] != version || buf_[2] != 0)
            return fail(fmt::format("a malformed CONNECT reply ({:02x} {:02x} {:02x})", buf_[0], buf_[1], buf_[2]));
        size_t addr = 0;
        switch (buf_[3]) {
        case atyp_ipv4: addr = 4; break;
        case atyp_ipv6: addr = 16; break;
        case atyp_domain: addr = 1 + size_t{buf_[4]}; break;
        default: return fail(fmt::format("a CONNECT reply with address type {}", buf_[3]));
        }
        size_t need = 4 + addr + 2;
        if (buf_.size() < need)
            return {};
        if (buf_[1] != 0)
            return fail(fmt::format("the proxy could not connect: {}", socks5_reply_text(buf_[1])), buf_[1]);
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(need));
        phase_ = Phase::Done;
        return {Status::Connected, {}, 0, {}};
    }
    case Phase::Done: break;
    }
    return fail("unreachable");
}

} // namespace alopex::slirp
