// SPDX-License-Identifier: GPL-2.0-or-later
#include "online.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace alopex::online {

LinkView view_of(const ipc::link1::LinkInfo &l)
{
    LinkView v{l.ifindex, l.name, l.operstate, l.admin, l.controller, l.managed, {}};
    for (const auto &a : l.addresses)
        v.addresses.push_back({a.family, a.scope});
    return v;
}

bool routable(const LinkView &l)
{
    if (l.admin != "up" || (l.operstate != "UP" && l.operstate != "UNKNOWN"))
        return false;
    return std::any_of(l.addresses.begin(), l.addresses.end(),
                       [](const AddressView &a) { return a.scope == "global" || a.scope == "site"; });
}

namespace {

bool waited_by_default(const LinkView &l)
{
    if (l.managed)
        return *l.managed;
    return l.name != "lo" && l.admin == "up" && l.controller == 0;
}

} // namespace

Verdict evaluate(const std::vector<LinkView> &links, const Options &o)
{
    std::vector<std::string> missing;
    size_t considered = 0, up = 0;
    auto consider = [&](const LinkView &l) {
        ++considered;
        if (routable(l))
            ++up;
        else
            missing.push_back(l.name);
    };
    if (!o.interfaces.empty()) {
        for (const auto &name : o.interfaces) {
            auto it = std::find_if(links.begin(), links.end(), [&](const LinkView &l) { return l.name == name; });
            if (it == links.end()) {
                ++considered;
                missing.push_back(name + " (absent)");
            } else {
                consider(*it);
            }
        }
    } else {
        for (const auto &l : links)
            if (waited_by_default(l))
                consider(l);
    }
    Verdict v;
    v.online = up > 0 && (o.any || up == considered);
    if (!v.online)
        v.waiting_for = considered == 0 ? std::string("a link to configure")
                                        : fmt::format("{}", fmt::join(missing, ", "));
    return v;
}

} // namespace alopex::online
