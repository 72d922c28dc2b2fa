// SPDX-License-Identifier: GPL-2.0-or-later
// SOCKS5 CONNECT (RFC 1928) with and without username/password (RFC 1929): the bytes sent
// exactly, any split of the proxy's answers, data after the reply kept; refusals with
// their reply code; hostile answers (other versions, methods not offered, malformed
// replies, too much) are failures; [socks5] in the file, the password never inline.
#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "settings.hpp"
#include "socks5.hpp"

using namespace alopex::slirp;
using Bytes = std::vector<uint8_t>;
using S = Socks5Client::Status;

namespace {

// Feeds `b` one octet at a time; the last step.
Socks5Client::Step feed(Socks5Client &c, const Bytes &b)
{
    Socks5Client::Step last;
    for (size_t i = 0; i < b.size(); ++i) {
        last = c.input(std::span(b).subspan(i, 1));
        if (i + 1 < b.size())
            REQUIRE(last.status == S::More);
    }
    return last;
}

} // namespace

TEST_CASE("socks5: CONNECT without authentication, answers split anyhow", "[slirp][socks5]")
{
    Socks5Client c(0xC6336401, 8080, std::nullopt);   // 198.51.100.1
    CHECK(c.start() == Bytes{5, 1, 0});
    auto s = feed(c, {5, 0});
    REQUIRE(s.status == S::Send);
    CHECK(s.send == Bytes{5, 1, 0, 1, 198, 51, 100, 1, 0x1F, 0x90});
    s = c.input(Bytes{5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38, 'S', 'S', 'H', '-'});
    REQUIRE(s.status == S::Connected);
    CHECK(Bytes(c.leftover().begin(), c.leftover().end()) == Bytes{'S', 'S', 'H', '-'});
}

TEST_CASE("socks5: username and password (RFC 1929), a domain in the reply", "[slirp][socks5]")
{
    Socks5Client c(0x0A000063, 22, Socks5Auth{"pikvm", "s3cret"});
    CHECK(c.start() == Bytes{5, 1, 2});
    auto s = c.input(Bytes{5, 2});
    REQUIRE(s.status == S::Send);
    CHECK(s.send == Bytes{1, 5, 'p', 'i', 'k', 'v', 'm', 6, 's', '3', 'c', 'r', 'e', 't'});
    s = feed(c, {1, 0});
    REQUIRE(s.status == S::Send);
    CHECK(s.send == Bytes{5, 1, 0, 1, 10, 0, 0, 99, 0, 22});
    s = feed(c, {5, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 80});
    CHECK(s.status == S::Connected);
    CHECK(c.leftover().empty());
}

TEST_CASE("socks5: refusals carry their reply code; hostile answers fail", "[slirp][socks5]")
{
    auto after_method = [](Bytes answer) {
        Socks5Client c(1, 2, std::nullopt);
        REQUIRE(c.input(Bytes{5, 0}).status == S::Send);
        return c.input(answer);
    };
    auto r = after_method({5, 5, 0, 1, 0, 0, 0, 0, 0, 0});
    CHECK(r.status == S::Failed);
    CHECK(r.reply == 5);
    CHECK(r.what.find("connection refused") != std::string::npos);
    CHECK(after_method({5, 2, 0, 1, 0, 0, 0, 0, 0, 0}).reply == 2);
    CHECK(after_method({5, 0x7F, 0, 1, 0, 0, 0, 0, 0, 0}).what.find("unassigned") != std::string::npos);
    CHECK(after_method({4, 0, 0, 1, 0, 0, 0, 0, 0, 0}).status == S::Failed);   // version
    CHECK(after_method({5, 0, 1, 1, 0, 0, 0, 0, 0, 0}).status == S::Failed);   // reserved octet
    CHECK(after_method({5, 0, 0, 9, 0, 0, 0, 0, 0, 0}).status == S::Failed);   // address type
    CHECK(after_method({5, 0, 0, 1, 0}).status == S::More);                   // not all there yet
    auto method = [](std::optional<Socks5Auth> auth, Bytes answer) {
        Socks5Client c(1, 2, std::move(auth));
        return c.input(answer);
    };
    CHECK(method(std::nullopt, {5, 0xFF}).what.find("wants authentication") != std::string::npos);
    CHECK(method(std::nullopt, {5, 2}).status == S::Failed);   // not offered
    CHECK(method(Socks5Auth{"u", "p"}, {5, 0}).status == S::Failed);
    CHECK(method(std::nullopt, {4, 0}).what.find("not a SOCKS5") != std::string::npos);
    CHECK(method(std::nullopt, {5, 0, 5}).status == S::Failed);   // more than the choice
    Socks5Client c(1, 2, Socks5Auth{"u", "p"});
    REQUIRE(c.input(Bytes{5, 2}).status == S::Send);
    auto s = c.input(Bytes{1, 1});
    CHECK(s.status == S::Failed);
    CHECK(s.what.find("refused the username") != std::string::npos);
    CHECK(c.input(Bytes{5}).status == S::Failed);   // after the end
}

TEST_CASE("socks5: [socks5] in alopex-slirp.toml; the password from a file only", "[slirp][socks5][settings]")
{
    auto s = parse_settings("[socks5]\nserver = \"127.0.0.1:1080\"\n", "slirp.toml");
    REQUIRE(s);
    REQUIRE(s->socks5);
    CHECK(s->socks5->server.to_string() == "127.0.0.1:1080");
    CHECK(s->socks5->username.empty());
    auto refusal = [](const char *text) {
        auto r = parse_settings(text, "slirp.toml");
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(refusal("[socks5]\nserver = \"proxy:1080\"\n").starts_with("slirp.toml:2:10: 'server' must be"));
    CHECK(refusal("[socks5]\nusername = \"u\"\n").find("missing required key 'server'") != std::string::npos);
    CHECK(refusal("[socks5]\nserver = \"127.0.0.1:1080\"\nusername = \"u\"\n").find("exactly one of") !=
          std::string::npos);
    CHECK(refusal("[socks5]\nserver = \"127.0.0.1:1080\"\npassword = \"x\"\n").find("unknown key 'password'") !=
          std::string::npos);
    CHECK(refusal("[socks5]\nserver = \"127.0.0.1:1080\"\npassword_file = \"/x\"\n").find("needs a 'username'") !=
          std::string::npos);
    CHECK(refusal("[socks5]\nserver = \"127.0.0.1:1080\"\nusername = \"u\"\npassword_file = \"rel\"\n")
              .find("absolute") != std::string::npos);
    CHECK(refusal("[socks5]\nserver = \"127.0.0.1:1080\"\nusername = \"u\"\npassword_credential = \"../x\"\n")
              .find("credential's name") != std::string::npos);
    std::string path = "/tmp/alopex-test-socks5-secret";
    std::ofstream(path) << "s3cret\nignored\n";
    Socks5Settings ok{s->socks5->server, "u", path, ""};
    auto pw = read_socks5_password(ok);
    REQUIRE(pw);
    CHECK(*pw == "s3cret");
    std::remove(path.c_str());
    CHECK_FALSE(read_socks5_password(ok));
    Socks5Settings cred{s->socks5->server, "u", "", "socks5"};
    unsetenv("CREDENTIALS_DIRECTORY");
    auto no = read_socks5_password(cred);
    REQUIRE_FALSE(no);
    CHECK(no.error().message.find("CREDENTIALS_DIRECTORY") != std::string::npos);
}
