// SPDX-License-Identifier: GPL-2.0-or-later
// A list of callbacks for one kind of event, instead of a std::function slot that each
// part overwrites and wraps again. Parts subscribe where they are constructed; the
// publisher calls them in subscription order. A subscription ends with its token (or
// lives as long as the publisher, the usual case for a daemon's parts).
//
//   struct Hooks { Subscribers<const LinkState &> link_added; ... };
//   mgr.hooks.link_added.add([&dhcp](const LinkState &l) { dhcp.link_added(l); });
//   mgr.hooks.link_added(link);
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace alopex {

template <typename... A> class Subscribers {
public:
    using Fn = std::function<void(A...)>;

    // Returns a token for remove().
    uint64_t add(Fn f)
    {
        fns_.emplace_back(++last_, std::move(f));
        return last_;
    }
    void remove(uint64_t token)
    {
        std::erase_if(fns_, [token](const auto &e) { return e.first == token; });
    }
    bool empty() const noexcept { return fns_.empty(); }
    size_t size() const noexcept { return fns_.size(); }

    // Calls every subscriber; one subscribed or removed during the call takes effect for
    // the next event.
    void operator()(A... a) const
    {
        auto now = fns_;
        for (const auto &[_, f] : now)
            f(a...);
    }

private:
    std::vector<std::pair<uint64_t, Fn>> fns_;
    uint64_t last_ = 0;
};

} // namespace alopex
