// SPDX-License-Identifier: GPL-2.0-or-later
// Name checks of alopex/net.hpp that are not about addresses: DNS domain names.
#include "alopex/net.hpp"

namespace alopex::net {

bool valid_domain(std::string_view name)
{
    if (!name.empty() && name.back() == '.')
        name.remove_suffix(1);
    if (name.empty() || name.size() > 253)
        return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('.', start);
        if (end == std::string_view::npos)
            end = name.size();
        auto label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
            if (!ok)
                return false;
        }
        start = end + 1;
    }
    return true;
}

} // namespace alopex::net
