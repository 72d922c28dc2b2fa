// SPDX-License-Identifier: GPL-2.0-or-later
#include "naming.hpp"

#include <openssl/sha.h>

#include <fmt/format.h>

namespace alopex::ovs {

namespace {

void replace_all(std::string &s, std::string_view what, std::string_view with)
{
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
}

} // namespace

std::string render_name(std::string_view naming_template, std::string_view container, unsigned index)
{
    std::string raw(naming_template);
    replace_all(raw, "{container}", container);
    replace_all(raw, "{index}", std::to_string(index));
    std::string clean;
    for (size_t i = 0; i < raw.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            clean.push_back(static_cast<char>(c));
        else if (c >= 'A' && c <= 'Z')
            clean.push_back(static_cast<char>(c - 'A' + 'a'));
        else if (c < 0x80 || (c & 0xC0) == 0xC0)   // ASCII, or a UTF-8 sequence's first byte
            clean.push_back('_');
        // a UTF-8 continuation byte: part of the character already made '_'
    }
    if (clean.size() <= 15)
        return clean;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char *>(raw.data()), raw.size(), digest);
    return clean.substr(0, 13) + fmt::format("{:02x}", digest[0]);
}

std::optional<std::string> vi_name(uint32_t vmid, const std::function<bool(const std::string &)> &taken)
{
    std::string base = fmt::format("vi{}", vmid);
    if (!taken(base))
        return base;
    for (unsigned n = 1; n < 10000; ++n) {
        std::string name = fmt::format("{}_{}", base, n);
        if (name.size() > 15)
            return std::nullopt;
        if (!taken(name))
            return name;
    }
    return std::nullopt;
}

bool valid_container_name(std::string_view name)
{
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-") ==
               std::string_view::npos;
}

} // namespace alopex::ovs
