// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as alopex-fwd's runtime state: as runtime.json (parse), as
// runtime.journal (the store's replay onto an empty state and onto a small snapshot, then
// runtime::recover) and line by line (parse_change). Never a crash or an exception;
// numbers read back stay in bounds (ids, seqs, deadlines; next_id never wraps); whatever
// is accepted formats back to text that parses to the same value; a replay stops at the
// first bad line and its good prefix replays alone to the same state without damage.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "alopex/store.hpp"
#include "runtime.hpp"

using namespace alopex::fwd;
namespace store = alopex::store;

namespace {

void check(bool ok)
{
    if (!ok)
        abort();
}

void bounded(const runtime::State &s)
{
    check(s.next_id >= 1 && s.next_id <= runtime::max_id + 1 && s.seq <= store::max_seq);
    check(s.rules.size() <= runtime::max_rules && s.interfaces.size() <= runtime::max_interfaces);
    for (const auto &[id, r] : s.rules)
        check(id == r.id && id >= 1 && id <= runtime::max_id && r.expires_at_us <= runtime::max_time_us);
}

void snapshot_round_trip(const runtime::State &s)
{
    bounded(s);
    auto text = runtime::format(s);
    auto back = runtime::parse(text, "f");
    check(back.has_value());
    // Specs and comments of a replayed journal were checked like the file's; invalid
    // UTF-8 is replaced when formatting, so compare the structure, not the bytes.
    check(back->rules.size() == s.rules.size() && back->next_id == s.next_id &&
          back->seq == s.seq && back->panic == s.panic && back->interfaces.size() == s.interfaces.size());
}

void journal(const runtime::State &start, std::string_view text)
{
    runtime::Loaded l;
    l.state = start;
    l.journal = store::replay<runtime::Codec>(l.state, text, "runtime.journal");
    const auto &r = l.journal;
    check(r.valid_bytes <= text.size());
    check(r.damage.has_value() == (r.bad_line != 0));
    check(r.damage || r.after_damage.empty());
    check(r.damage || r.valid_bytes == text.size() || text.find('\n', r.valid_bytes) == std::string_view::npos);
    if (r.damage)
        check(r.damage->message.rfind("runtime.journal:" + std::to_string(r.bad_line) + ": ", 0) == 0);
    // next_id did not wrap: above every id held.
    if (!l.state.rules.empty())
        check(l.state.next_id > l.state.rules.rbegin()->first);
    snapshot_round_trip(l.state);

    // The good prefix alone: the same state, no damage.
    runtime::State again = start;
    auto p = store::replay<runtime::Codec>(again, text.substr(0, r.valid_bytes), "runtime.journal");
    check(!p.damage && p.lines == r.lines && p.applied == r.applied && again == l.state);

    const bool was_panic = l.state.panic;
    auto said = runtime::recover(l);
    check(said.empty() == !r.damage);
    check(!was_panic || l.state.panic);   // recovery never turns panic off
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);

    if (auto s = runtime::parse(text, "runtime.json"))
        snapshot_round_trip(*s);

    journal(runtime::State{}, text);
    runtime::State small;
    small.next_id = 5;
    small.seq = 2;
    small.panic = size % 2;
    small.rules[3] = {3, "wan", "zone=wan proto=tcp dport=22 action=accept", 0, ""};
    journal(small, text);

    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (auto c = runtime::parse_change(line)) {
            check(c->seq >= 1 && c->seq <= store::max_seq && c->rule.id <= runtime::max_id &&
                  c->rule.expires_at_us <= runtime::max_time_us);
            for (uint64_t id : c->ids)
                check(id >= 1 && id <= runtime::max_id);
            std::string again = runtime::format_change(*c);
            check(!again.empty() && again.back() == '\n');
            again.pop_back();
            auto back = runtime::parse_change(again);
            check(back.has_value() && back->kind == c->kind && back->seq == c->seq &&
                  back->ids == c->ids && back->rule.id == c->rule.id && back->panic == c->panic);
        }
        if (nl == std::string_view::npos)
            break;
        pos = nl + 1;
    }
    return 0;
}
