// SPDX-License-Identifier: GPL-2.0-or-later
// net::Mac: link-layer addresses, parsed from the colon form and printed in it.
#include "alopex/net.hpp"

#include <algorithm>

namespace alopex::net {

namespace {

std::unexpected<Error> invalid(std::string_view what, std::string message)
{
    std::string m = what.empty() ? std::move(message) : fmt::format("{}: {}", what, message);
    return std::unexpected<Error>(Error{EINVAL, std::move(m), bus_error::InvalidArgument});
}

// Six pairs of hex digits separated by `sep`.
bool pairs(std::string_view text, char sep, uint8_t *out)
{
    if (text.size() != 17)
        return false;
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex_digit(text[i * 3]), lo = hex_digit(text[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != sep))
            return false;
        out[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    return true;
}

// Cisco's "0200.5e10.0001".
bool dotted(std::string_view text)
{
    if (text.size() != 14)
        return false;
    for (size_t i = 0; i < 14; ++i)
        if ((i % 5 == 4) ? text[i] != '.' : hex_digit(text[i]) < 0)
            return false;
    return true;
}

} // namespace

Result<Mac> Mac::parse(std::string_view text, std::string_view what)
{
    Mac m;
    if (pairs(text, ':', m.bytes_.data())) {
        m.size_ = 6;
        return m;
    }
    uint8_t scratch[6];
    std::string_view hint;
    if (pairs(text, '-', scratch) || dotted(text))
        hint = " (write it with ':' between the bytes)";
    return invalid(what, fmt::format("{} is not a MAC address (like 02:00:00:00:00:01){}", quoted(text), hint));
}

Result<Mac> Mac::from_bytes(std::span<const uint8_t> bytes, std::string_view what)
{
    if (bytes.size() > max_size)
        return invalid(what, fmt::format("{} bytes are more than a hardware address holds ({})", bytes.size(),
                                         max_size));
    Mac m;
    m.size_ = static_cast<uint8_t>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), m.bytes_.begin());
    return m;
}

Result<Mac> Mac::from_bytes(std::span<const std::byte> bytes, std::string_view what)
{
    return from_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()), what);
}

std::string Mac::to_string() const
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(size_ * 3);
    for (size_t i = 0; i < size_; ++i) {
        if (i)
            s.push_back(':');
        s.push_back(hex[bytes_[i] >> 4]);
        s.push_back(hex[bytes_[i] & 15]);
    }
    return s;
}

bool Mac::is_zero() const noexcept
{
    return size_ > 0 && std::all_of(bytes_.begin(), bytes_.begin() + size_, [](uint8_t b) { return b == 0; });
}

Result<> Mac::check_assignable(std::string_view what) const
{
    if (empty())
        return invalid(what, "no address");
    if (is_multicast())
        return invalid(what, fmt::format("{} is a multicast address", to_string()));
    if (is_zero())
        return invalid(what, fmt::format("{} is all zeros", to_string()));
    return {};
}

bool valid_ifname(std::string_view name)
{
    if (name.empty() || name.size() > 15 || name == "." || name == "..")
        return false;
    for (unsigned char c : name)
        if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
            return false;
    return true;
}

} // namespace alopex::net
