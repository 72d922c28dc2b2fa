// SPDX-License-Identifier: GPL-2.0-or-later
#include "kit.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "shell.hpp"

namespace alopex::fwd::nft::test {

using itest::capture;
using itest::sh;

namespace {

const char *foreign_table = R"(table ip foreign {
  set s { type ipv4_addr; elements = { 1.2.3.4 } }
  chain c { type filter hook input priority 0; tcp dport 1 drop; }
})";

} // namespace

void fresh()
{
    static bool once = [] {
        sh("ip link set lo up");
        return true;
    }();
    (void)once;
    sh("nft delete table inet alopex 2>/dev/null");
    sh("nft delete table ip foreign 2>/dev/null");
    REQUIRE(sh(fmt::format("nft -f - <<'EOF'\n{}\nEOF", foreign_table)));
}

std::string foreign() { return capture("nft -j list table ip foreign"); }

std::string our_table_still()
{
    // Drops every `, "expires": N` (no std::regex: g++ 12 warns inside it under ASan).
    const std::string text = capture("nft -j list table inet alopex");
    static constexpr std::string_view key = ", \"expires\": ";
    std::string out;
    size_t pos = 0;
    for (size_t at; (at = text.find(key, pos)) != std::string::npos;) {
        out.append(text, pos, at - pos);
        pos = at + key.size();
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
            ++pos;
    }
    out.append(text, pos);
    return out;
}

Result<std::unique_ptr<SessionLoop>> SessionLoop::open()
{
    std::unique_ptr<SessionLoop> l(new SessionLoop());
    sd_event *e = nullptr;
    if (int r = sd_event_new(&e); r < 0)
        return fail(-r, "sd_event_new");
    l->event_.reset(e);
    ALOPEX_TRY(s, Session::open(e));
    l->session_ = std::move(s);
    return l;
}

template <class T, class Start> Result<T> SessionLoop::wait(Start start)
{
    std::optional<Result<T>> got;
    start([&](Result<T> r) { got = std::move(r); });
    while (!got)
        if (int r = sd_event_run(event_.get(), UINT64_MAX); r < 0)
            return fail(-r, "sd_event_run");
    return std::move(*got);
}

Result<> SessionLoop::apply(const Ruleset &rs)
{
    return wait<void>([&](auto done) { session_->apply(rs, std::move(done)); });
}

Result<> SessionLoop::apply(const std::vector<ElementOp> &ops)
{
    return wait<void>([&](auto done) { session_->apply(ops, std::move(done)); });
}

Result<std::map<std::string, CounterValue>> SessionLoop::counters()
{
    return wait<std::map<std::string, CounterValue>>([&](auto done) { session_->counters(std::move(done)); });
}

Result<TableInfo> SessionLoop::table()
{
    return wait<TableInfo>([&](auto done) { session_->table(std::move(done)); });
}

std::unique_ptr<SessionLoop> open_session()
{
    auto s = SessionLoop::open();
    REQUIRE(s);
    return std::move(*s);
}

void apply_ok(SessionLoop &s, const Ruleset &rs)
{
    auto r = s.apply(rs);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r);
}

std::vector<std::string> table_flags(const nlohmann::json &j)
{
    std::vector<std::string> out;
    const auto *t = find(j, "table", "alopex");
    REQUIRE(t);
    if (t->contains("flags")) {
        const auto &f = t->at("flags");
        if (f.is_string())
            out.push_back(f.get<std::string>());
        else
            for (const auto &x : f)
                out.push_back(x.get<std::string>());
    }
    return out;
}

bool has(const std::vector<std::string> &v, const std::string &x)
{
    return std::find(v.begin(), v.end(), x) != v.end();
}

ElementOp op(ElementOp::Kind k, std::string set, Element e)
{
    ElementOp o;
    o.kind = k;
    o.set = std::move(set);
    o.element = std::move(e);
    return o;
}

bool nft_has(const std::string &what, const std::string &needle)
{
    return capture("nft list " + what).find(needle) != std::string::npos;
}

bool kernel_has_persist()
{
    fresh();
    auto s = open_session();
    apply_ok(*s, version1());
    auto t = s->table();
    REQUIRE(t);
    return t->persist_supported;
}

} // namespace alopex::fwd::nft::test
