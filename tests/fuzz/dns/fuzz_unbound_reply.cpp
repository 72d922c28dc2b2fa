// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-unbound-reply: bytes from unbound's control socket, read as each reply the
// controller parses (status, stats_noreset, a bulk summary, a simple "ok"). Whatever
// comes: no crash; statistics accepted only with finite non-negative values; the
// histogram's quantiles stay inside its buckets.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "unbound/protocol.hpp"

using namespace alopex::dns::unbound;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view bytes(reinterpret_cast<const char *>(data), size);
    auto reply = parse_reply(bytes);
    if (!reply)
        return 0;
    (void)expect_ok(*reply, "x");
    (void)reply->errors();
    (void)bulk_count(*reply, "local_zones");
    if (auto s = parse_status(*reply); s && (s->pid <= 0 || s->version_text.empty()))
        abort();
    auto stats = parse_stats(*reply);
    if (!stats)
        return 0;
    for (const auto &[k, v] : *stats)
        if (!std::isfinite(v) || v < 0 || k.empty())
            abort();
    auto h = histogram(*stats);
    double total = 0;
    for (size_t i = 0; i < h.size(); ++i) {
        if (!(h[i].to > h[i].from) || (i && h[i].from < h[i - 1].to))
            abort();
        total += h[i].count;
    }
    if (total > 0 && std::isfinite(total))
        for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
            double t = quantile(h, q);
            if (!(t >= h.front().from && t <= h.back().to))
                abort();
        }
    return 0;
}
