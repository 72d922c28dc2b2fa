// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as firewall.toml: any outcome but a crash or an exception; a refusal
// names the file with a position; an accepted model is consistent (every zone in
// zone_order, default_zone names a zone, every rule formats to a spec that reads back
// to the same rule against that model).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex::fwd;
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto m = config::parse(text, "firewall.toml");
    if (!m) {
        if (!m.error().message.starts_with("firewall.toml:"))
            abort();
        return 0;
    }
    if (m->zones.empty() || m->zone_order.size() != m->zones.size())
        abort();
    if (!m->default_zone.empty() && !m->zones.contains(m->default_zone))
        abort();
    for (auto &name : m->zone_order) {
        auto &z = m->zones.at(name);
        for (auto &r : z.rules) {
            auto spec = config::format_rule(name, r);
            auto back = config::parse_spec(spec, *m);
            if (!back || !back->rule)
                abort();
            Rule want = r;
            want.comment.clear();
            if (!(*back->rule == want))
                abort();
        }
        for (auto &f : z.forwards) {
            auto back = config::parse_spec(config::format_forward(name, f), *m);
            if (!back || !back->forward)
                abort();
            Forward want = f;
            want.comment.clear();
            if (!(*back->forward == want))
                abort();
        }
    }
    return 0;
}
