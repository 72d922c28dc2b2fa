// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-net: the address parsers of alopex/net.hpp. The first byte picks the parser (and
// its rules), the rest is the text. Whatever parses must print as text that parses
// back to the same value and prints the same again; whatever fails must say so with a
// bounded message that names the argument. Bytes of an address's size go through
// from_bytes -> to_string -> parse as well, to cover inet_ntop's every form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "alopex/net.hpp"

using namespace alopex::net;

namespace {

[[noreturn]] void broken(const char *what, const std::string &detail)
{
    std::fprintf(stderr, "fuzz-net: %s: %s\n", what, detail.c_str());
    std::abort();
}

template <typename T> void check_error(const alopex::Result<T> &r)
{
    if (r)
        return;
    const auto &m = r.error().message;
    if (!m.starts_with("x: ") || m.size() > 400 || r.error().code != EINVAL)
        broken("error message", m);
    for (unsigned char c : m)
        if (c < 0x20 || c >= 0x7f)
            broken("unescaped byte in message", m);
}

void address_round_trip(const Address &a)
{
    auto text = a.to_string();
    auto again = Address::parse(text, "x");
    if (!again || *again != a || again->to_string() != text)
        broken("address round trip", text);
    if (Address::parse(text, a.family(), "x").value_or(Address()) != a)
        broken("address round trip within its family", text);
    auto b = Address::from_bytes(a.family(), a.bytes(), "x");
    if (!b || *b != a)
        broken("address bytes round trip", text);
}

void prefix_round_trip(const Prefix &p, PrefixRules rules)
{
    auto text = p.to_string();
    rules.bare = false;
    auto again = Prefix::parse(text, "x", rules);
    if (!again || *again != p || again->to_string() != text)
        broken("prefix round trip", text);
    if (!p.contains(p.address()) || !p.contains(p.network()) || !p.network().is_network() ||
        !p.contains(p.last()) || p.network().network() != p.network())
        broken("prefix arithmetic", text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
    static constexpr int families[] = {0, AF_INET, AF_INET6, 0};
    switch (mode % 4) {
    case 0: {
        auto a = Address::parse(text, families[(mode >> 2) % 4], "x");
        check_error(a);
        if (a)
            address_round_trip(*a);
        break;
    }
    case 1: {
        PrefixRules rules{.family = families[(mode >> 2) % 4], .network = (mode & 0x10) != 0,
                          .bare = (mode & 0x20) != 0, .zero_length = (mode & 0x40) != 0};
        auto p = Prefix::parse(text, "x", rules);
        check_error(p);
        if (p)
            prefix_round_trip(*p, rules);
        break;
    }
    case 2: {
        auto m = Mac::parse(text, "x");
        check_error(m);
        if (m) {
            auto again = Mac::parse(m->to_string(), "x");
            if (!again || *again != *m || again->to_string() != m->to_string())
                broken("mac round trip", m->to_string());
        }
        break;
    }
    case 3: {
        // Raw bytes: 4 or 16 of them are an address; any count up to 32 a hardware address.
        auto raw = std::span<const uint8_t>(data + 1, size - 1);
        if (raw.size() == 4 || raw.size() == 16) {
            auto a = Address::from_bytes(raw.size() == 4 ? AF_INET : AF_INET6, raw, "x");
            if (!a)
                broken("from_bytes", "refused a full-size address");
            address_round_trip(*a);
            for (unsigned len = 0; len <= a->bits(); len += 7)
                prefix_round_trip(Prefix(*a, len), {});
        }
        auto m = Mac::from_bytes(raw, "x");
        if (m.has_value() != (raw.size() <= Mac::max_size))
            broken("mac from_bytes", std::to_string(raw.size()));
        if (m && m->size() == 6 && Mac::parse(m->to_string(), "x").value_or(Mac()) != *m)
            broken("mac text round trip", m->to_string());
        break;
    }
    }
    return 0;
}
