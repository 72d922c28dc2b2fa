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

void Tracker::count(const State &s, int sign)
{
    if (!o_.interfaces.empty() || !s.waited)
        return;
    if (sign > 0) {
        ++waited_;
        up_ += s.routable;
        if (!s.routable)
            missing_.emplace(s.ifindex, s.name);
    } else {
        --waited_;
        up_ -= s.routable;
        missing_.erase({s.ifindex, s.name});
    }
}

void Tracker::update(const std::string &path, const LinkView &l)
{
    remove(path);
    State s{l.ifindex, l.name, o_.interfaces.empty() && waited_by_default(l), routable(l)};
    if (!o_.interfaces.empty() &&
        std::find(o_.interfaces.begin(), o_.interfaces.end(), l.name) != o_.interfaces.end()) {
        s.waited = true;
        named_[l.name].insert(path);
    }
    count(s, +1);
    links_.emplace(path, std::move(s));
}

void Tracker::remove(const std::string &path)
{
    auto it = links_.find(path);
    if (it == links_.end())
        return;
    count(it->second, -1);
    if (auto n = named_.find(it->second.name); n != named_.end()) {
        n->second.erase(path);
        if (n->second.empty())
            named_.erase(n);
    }
    links_.erase(it);
}

Verdict Tracker::verdict() const
{
    std::vector<std::string> missing;
    size_t considered = waited_, up = up_;
    if (!o_.interfaces.empty()) {
        considered = o_.interfaces.size();
        up = 0;
        for (const auto &name : o_.interfaces) {
            auto n = named_.find(name);
            if (n == named_.end()) {
                missing.push_back(name + " (absent)");
                continue;
            }
            // Two links of one name: only while linkd reports a rename; either will do.
            bool ok = std::any_of(n->second.begin(), n->second.end(),
                                  [&](const std::string &p) { return links_.at(p).routable; });
            if (ok)
                ++up;
            else
                missing.push_back(name);
        }
    } else {
        for (const auto &[_, name] : missing_)
            missing.push_back(name);
    }
    Verdict v;
    v.online = up > 0 && (o_.any || up == considered);
    if (!v.online)
        v.waiting_for = considered == 0 ? std::string("a link to configure")
                                        : fmt::format("{}", fmt::join(missing, ", "));
    return v;
}

Verdict evaluate(const std::vector<LinkView> &links, const Options &o)
{
    Tracker t(o);
    for (const auto &l : links)
        t.update(std::to_string(l.ifindex), l);
    return t.verdict();
}

} // namespace alopex::online
