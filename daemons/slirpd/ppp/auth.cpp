// SPDX-License-Identifier: GPL-2.0-or-later
#include "auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "packet.hpp"

namespace alopex::slirp::ppp {

namespace {

// PAP codes (RFC 1334 §2.2) and CHAP codes (RFC 1994 §4).
constexpr uint8_t pap_request = 1, pap_ack = 2, pap_nak = 3;
constexpr uint8_t chap_challenge = 1, chap_response = 2, chap_success = 3, chap_failure = 4;
constexpr size_t challenge_size = 16;

// Whether `a` and `b` are the same octets, in a time that depends on neither: their
// SHA-256 digests compared.
bool same(std::span<const uint8_t> a, std::string_view b)
{
    uint8_t da[EVP_MAX_MD_SIZE] = {}, db[EVP_MAX_MD_SIZE] = {};
    unsigned la = 0, lb = 0;
    if (EVP_Digest(a.data(), a.size(), da, &la, EVP_sha256(), nullptr) != 1 ||
        EVP_Digest(b.data(), b.size(), db, &lb, EVP_sha256(), nullptr) != 1 || la != lb || la == 0)
        return false;
    return CRYPTO_memcmp(da, db, la) == 0;
}

} // namespace

std::optional<std::array<uint8_t, 16>> chap_md5_response(uint8_t id, std::string_view secret,
                                                         std::span<const uint8_t> challenge)
{
    std::array<uint8_t, 16> out{};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len = 0;
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 && EVP_DigestUpdate(ctx, &id, 1) == 1 &&
              EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
              EVP_DigestUpdate(ctx, challenge.data(), challenge.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return std::nullopt;
    return out;
}

Authenticator::Authenticator(uint16_t protocol, const AuthConfig &config, std::function<uint32_t()> random, Send send,
                             std::function<void(bool)> done)
    : protocol_(protocol), config_(config), random_(std::move(random)), send_(std::move(send)), done_(std::move(done))
{
}

void Authenticator::start(uint64_t now)
{
    if (protocol_ == proto_chap) {
        id_ = static_cast<uint8_t>(random_());
        send_challenge(now);
    } else {
        deadline_ = now + config_.pap_timeout_usec;
    }
}

void Authenticator::send_challenge(uint64_t now)
{
    challenge_.clear();
    while (challenge_.size() < challenge_size) {
        uint32_t r = random_();
        for (int i = 0; i < 4; ++i)
            challenge_.push_back(static_cast<uint8_t>(r >> (8 * i)));
    }
    std::vector<uint8_t> data{static_cast<uint8_t>(challenge_size)};
    data.insert(data.end(), challenge_.begin(), challenge_.end());
    data.insert(data.end(), config_.name.begin(), config_.name.end());
    std::vector<uint8_t> info;
    build_packet(info, chap_challenge, ++id_, data);
    ++challenges_;
    ++stats_.challenges;
    deadline_ = now + config_.restart_usec;
    send_(proto_chap, std::move(info));
}

void Authenticator::advance(uint64_t now)
{
    if (!deadline_ || now < deadline_ || status_ != Status::Pending)
        return;
    deadline_ = 0;
    if (protocol_ == proto_pap)
        finish(false, "no Authenticate-Request in time");
    else if (challenges_ >= config_.max_challenges)
        finish(false, "no answer to the CHAP Challenge");
    else
        send_challenge(now);
}

void Authenticator::input(std::span<const uint8_t> info, uint64_t)
{
    ++stats_.packets_in;
    auto p = parse_packet(info);
    if (!p) {
        ++stats_.discarded;
        return;
    }
    if (protocol_ == proto_pap)
        pap_input(p->code, p->id, p->data);
    else
        chap_input(p->code, p->id, p->data);
}

const std::string *Authenticator::secret_of(std::string_view name) const
{
    auto it = config_.secrets.find(std::string(name));
    if (it == config_.secrets.end())
        it = config_.secrets.find("*");   // a client of * takes any name
    return it == config_.secrets.end() ? nullptr : &it->second;
}

void Authenticator::pap_input(uint8_t code, uint8_t id, std::span<const uint8_t> d)
{
    if (code != pap_request || status_ == Status::Failed || d.empty() || size_t{d[0]} + 2 > d.size() ||
        size_t{d[0]} + 2 + d[d[0] + 1] > d.size()) {
        ++stats_.discarded;
        return;
    }
    auto name = d.subspan(1, d[0]);
    auto password = d.subspan(size_t{d[0]} + 2, d[d[0] + 1]);
    std::string who(name.begin(), name.end());
    const std::string *secret = secret_of(who);
    // Compared even for an unknown name, so that the time taken says nothing of it.
    static const std::string none;
    bool ok = same(password, secret ? *secret : none) && secret && !secret->empty();
    if (status_ == Status::Succeeded) {   // our Ack was lost: the same again
        reply(ok && who == peer_ ? pap_ack : pap_nak, id, ok && who == peer_ ? "Login ok" : "Login incorrect");
        return;
    }
    peer_ = std::move(who);
    reply(ok ? pap_ack : pap_nak, id, ok ? "Login ok" : "Login incorrect");
    finish(ok, ok ? "" : secret ? "wrong password" : "unknown name");
}

void Authenticator::chap_input(uint8_t code, uint8_t id, std::span<const uint8_t> d)
{
    if (code != chap_response || id != id_ || status_ == Status::Failed || challenge_.empty() || d.empty() ||
        d[0] != 16 || d.size() < 17) {
        ++stats_.discarded;
        return;
    }
    auto value = d.subspan(1, 16);
    auto name = d.subspan(17);
    std::string who(name.begin(), name.end());
    const std::string *secret = secret_of(who);
    auto want = chap_md5_response(id, secret ? *secret : std::string_view{}, challenge_);
    bool ok = want && secret && !secret->empty() && CRYPTO_memcmp(value.data(), want->data(), want->size()) == 0;
    if (status_ == Status::Succeeded) {   // our Success was lost: the same again
        bool again = ok && who == peer_;
        reply(again ? chap_success : chap_failure, id, again ? "Welcome" : "Access denied");
        return;
    }
    peer_ = std::move(who);
    reply(ok ? chap_success : chap_failure, id, ok ? "Welcome" : "Access denied");
    finish(ok, ok         ? ""
               : !want    ? "MD5 is not available (libcrypto refused it)"
               : secret   ? "wrong CHAP response (another secret)"
                          : "unknown name");
}

void Authenticator::reply(uint8_t code, uint8_t id, std::string_view message)
{
    std::vector<uint8_t> data;
    if (protocol_ == proto_pap)
        data.push_back(static_cast<uint8_t>(message.size()));
    data.insert(data.end(), message.begin(), message.end());
    std::vector<uint8_t> info;
    build_packet(info, code, id, data);
    send_(protocol_, std::move(info));
}

void Authenticator::finish(bool passed, std::string reason)
{
    if (status_ != Status::Pending)
        return;
    status_ = passed ? Status::Succeeded : Status::Failed;
    reason_ = std::move(reason);
    deadline_ = 0;
    ++(passed ? stats_.successes : stats_.failures);
    if (done_)
        done_(passed);
}

} // namespace alopex::slirp::ppp
