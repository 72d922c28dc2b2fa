// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as alopex-fwd's runtime state: as runtime.json (parse), as
// runtime.journal (replay onto an empty state and onto a small snapshot) and line by line
// (parse_change). Never a crash or an exception; whatever is accepted formats back to
// text that parses to the same value (snapshot: format -> parse; change: format_change
// -> parse_change), and a replayed state survives a snapshot round trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime.hpp"

using namespace alopex::fwd;

namespace {

void check(bool ok)
{
    if (!ok)
        abort();
}

void snapshot_round_trip(const runtime::State &s)
{
    auto text = runtime::format(s);
    auto back = runtime::parse(text, "f");
    check(back.has_value());
    // Specs and comments of a replayed journal were checked like the file's; invalid
    // UTF-8 is replaced when formatting, so compare the structure, not the bytes.
    check(back->rules.size() == s.rules.size() && back->next_id == s.next_id &&
          back->seq == s.seq && back->panic == s.panic && back->interfaces.size() == s.interfaces.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);

    if (auto s = runtime::parse(text, "runtime.json"))
        snapshot_round_trip(*s);

    runtime::State empty;
    size_t valid = 0;
    if (runtime::replay(empty, text, "runtime.journal", &valid)) {
        check(valid <= text.size());
        check(valid == text.size() || text.find('\n', valid) == std::string_view::npos);
        snapshot_round_trip(empty);
    }
    runtime::State small;
    small.next_id = 5;
    small.seq = 2;
    small.rules[3] = {3, "wan", "zone=wan proto=tcp dport=22 action=accept", 0, ""};
    if (runtime::replay(small, text, "runtime.journal"))
        snapshot_round_trip(small);

    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (auto c = runtime::parse_change(line)) {
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
