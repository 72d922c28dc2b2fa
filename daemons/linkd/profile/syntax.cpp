// SPDX-License-Identifier: GPL-2.0-or-later
#include "syntax.hpp"

#include <algorithm>

namespace alopex::linkd::profile {

namespace {

bool name_byte_ok(unsigned char c)
{
    // Printable ASCII except space, '/' and ':' (the kernel refuses '/', ':' and
    // whitespace; we also refuse control and non-ASCII bytes).
    return c > 0x20 && c < 0x7f && c != '/' && c != ':';
}

} // namespace


bool is_glob(std::string_view s)
{
    return s.find_first_of("*?[\\") != std::string_view::npos;
}

Result<> check_name_glob(std::string_view glob)
{
    if (glob.empty())
        return fail(EINVAL, "must not be empty");
    if (glob.size() > 64)
        return fail(EINVAL, "is too long (at most 64 bytes)");
    for (char c : glob)
        if (!name_byte_ok(static_cast<unsigned char>(c)))
            return fail(EINVAL, "may only hold printable ASCII without spaces, '/' or ':'");
    if (!is_glob(glob)) {
        if (!valid_ifname(glob))
            return fail(EINVAL, "is not a valid interface name (1..15 bytes, not '.' or '..')");
        return {};
    }
    for (size_t i = 0; i < glob.size(); ++i) {
        char c = glob[i];
        if (c == '\\') {
            if (i + 1 >= glob.size())
                return fail(EINVAL, "ends with a lone backslash");
            ++i;
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < glob.size() && (glob[j] == '!' || glob[j] == '^'))
                ++j;
            if (j < glob.size() && glob[j] == ']') // a leading ']' is a member
                ++j;
            while (j < glob.size() && glob[j] != ']')
                ++j;
            if (j >= glob.size())
                return fail(EINVAL, "has a '[' without a closing ']'");
            if (j == i + 1 || (j == i + 2 && (glob[i + 1] == '!' || glob[i + 1] == '^')))
                return fail(EINVAL, "has an empty bracket expression");
            i = j;
        }
    }
    return {};
}

bool valid_zone(std::string_view name)
{
    if (name.empty() || name.size() > 64)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

} // namespace alopex::linkd::profile
