// SPDX-License-Identifier: GPL-2.0-or-later
// A blocklist brought into the running unbound as a diff, in chunks: unbound answers no
// query on its first thread while it reads a bulk command, so each local_zones /
// local_zones_remove carries only as many lines as take about target_chunk_usec (sized
// from how long the chunk before took per line), and queries are answered between two
// chunks. Removals first, then additions. A newer apply() while one runs takes over after
// the chunk in flight: the rest is planned again against what is applied by then, and
// every waiting caller is answered when unbound holds the newest. A chunk that unbound
// refuses a line of (it should not: the names were checked) fails the apply, with what
// it said; what the chunks before did stays known.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "alopex/error.hpp"
#include "blocklist/zones.hpp"
#include "unbound/client.hpp"

namespace alopex::dns {

struct ApplyOptions {
    uint64_t target_chunk_usec = 20'000;
    size_t first_chunk = 1000, min_chunk = 100, max_chunk = 100'000;
};

struct ApplyReport {
    size_t added = 0, removed = 0, chunks = 0;
    uint64_t longest_chunk_usec = 0, took_usec = 0;
};

class Applier {
public:
    using Done = std::function<void(Result<ApplyReport>)>;
    explicit Applier(unbound::Client &client, ApplyOptions options = {})
        : client_(client), options_(options), chunk_(options.first_chunk) {}

    void apply(Zones desired, Done done);
    // What unbound holds, as far as this applier knows.
    const Zones &applied() const noexcept { return applied_; }
    // unbound started afresh (it holds none of it): the next apply() adds everything.
    void forget() { applied_.clear(); }

private:
    void next();
    void finish(Result<ApplyReport> r);
    uint64_t now() const;

    unbound::Client &client_;
    ApplyOptions options_;
    Zones applied_, desired_;
    ZoneDiff plan_;
    size_t removed_next_ = 0, added_next_ = 0;
    bool running_ = false, replan_ = false;
    size_t chunk_;
    ApplyReport report_;
    uint64_t started_ = 0;
    std::vector<Done> waiting_;
};

} // namespace alopex::dns
