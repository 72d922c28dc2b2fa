// SPDX-License-Identifier: GPL-2.0-or-later
#include "blocklist/applier.hpp"

#include <algorithm>
#include <ctime>

#include "alopex/log.hpp"

namespace alopex::dns {

// The clock itself, not the loop's time of its last wakeup (sd_event_now): a chunk's time
// must not include the planning done before it in the same iteration.
uint64_t Applier::now() const
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000 + uint64_t(ts.tv_nsec) / 1000;
}

void Applier::apply(Zones desired, Done done)
{
    desired_ = std::move(desired);
    waiting_.push_back(std::move(done));
    if (running_) {
        replan_ = true;
        return;
    }
    running_ = true;
    report_ = {};
    started_ = now();
    plan_ = diff_zones(applied_, desired_);
    removed_next_ = added_next_ = 0;
    next();
}

void Applier::next()
{
    if (replan_) {
        replan_ = false;
        plan_ = diff_zones(applied_, desired_);
        removed_next_ = added_next_ = 0;
    }
    bool removing = removed_next_ < plan_.remove.size();
    const auto &all = removing ? plan_.remove : plan_.add;
    size_t &from = removing ? removed_next_ : added_next_;
    if (from >= all.size()) {
        report_.took_usec = now() - started_;
        return finish(report_);
    }
    size_t n = std::min(chunk_, all.size() - from);
    std::vector<std::string> lines(all.begin() + long(from), all.begin() + long(from + n));
    from += n;
    uint64_t t0 = now();
    const char *command = removing ? "local_zones_remove" : "local_zones";
    client_.bulk(command, std::move(lines), [this, removing, n, t0, begin = from - n, command](Result<unbound::Reply> r) {
        if (!r)
            return finish(std::unexpected(r.error()));
        auto errors = r->errors();
        if (!errors.empty())
            return finish(failf(EIO, "unbound refused lines of {} (a chunk of {}): {}", command, n, errors.front()));
        const auto &all = removing ? plan_.remove : plan_.add;
        for (size_t i = begin; i < begin + n; ++i) {
            if (removing) {
                applied_.erase(all[i]);
            } else {
                std::string name(zone_line_name(all[i]));
                applied_[name] = all[i].ends_with(" transparent") ? ZoneType::transparent : ZoneType::always_nxdomain;
            }
        }
        (removing ? report_.removed : report_.added) += n;
        ++report_.chunks;
        uint64_t took = std::max<uint64_t>(now() - t0, 1);
        report_.longest_chunk_usec = std::max(report_.longest_chunk_usec, took);
        // The next chunk sized to take about the target, from this one's time per line.
        double per_line = double(took) / double(n);
        chunk_ = std::clamp<size_t>(size_t(double(options_.target_chunk_usec) / per_line), options_.min_chunk,
                                    options_.max_chunk);
        next();
    });
}

void Applier::finish(Result<ApplyReport> r)
{
    running_ = false;
    replan_ = false;
    auto waiting = std::move(waiting_);
    waiting_.clear();
    if (r)
        log::info("blocklist applied to unbound: {} zone(s) added, {} removed, in {} chunk(s) over {:.1f} s "
                  "(the longest {:.1f} ms)",
                  r->added, r->removed, r->chunks, r->took_usec / 1e6, r->longest_chunk_usec / 1e3);
    for (auto &w : waiting)
        w(r);
}

} // namespace alopex::dns
