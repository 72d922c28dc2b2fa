// SPDX-License-Identifier: GPL-2.0-or-later
// runtime.journal in fwd's record format: every change round trips as one line, hostile
// lines (numbers out of range included) are refused with file:line, a change appends one
// line, and damage is recovered from failing closed (runtime::recover: the good prefix,
// panic kept or turned on). The store's own behaviour (compaction, torn tails, crashes
// between snapshot and journal) is tested generically in tests/unit/store.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include "runtime.hpp"

using namespace alopex::fwd;
namespace fs = std::filesystem;
using alopex::test::TempDir;
using alopex::test::slurp;
using alopex::test::spew;
using Kind = runtime::Change::Kind;

namespace {

runtime::Change add(uint64_t id, uint64_t expires = 0, std::string comment = "")
{
    runtime::Change c;
    c.kind = Kind::add;
    c.rule = {id, "wan", "zone=wan proto=tcp dport=80 saddr=192.0.2." + std::to_string(id % 250) +
                             "/32 action=accept",
              expires, std::move(comment)};
    return c;
}

runtime::Change remove(std::vector<uint64_t> ids)
{
    runtime::Change c;
    c.kind = Kind::remove;
    c.ids = std::move(ids);
    return c;
}

runtime::Change iface(std::string name, std::string zone)
{
    runtime::Change c;
    c.kind = Kind::interface;
    c.ifname = std::move(name);
    c.zone = std::move(zone);
    return c;
}

runtime::Change panic(bool on)
{
    runtime::Change c;
    c.kind = Kind::panic;
    c.panic = on;
    return c;
}

// What the daemon does: apply to its state, then record.
void change(runtime::Store &store, runtime::State &s, const runtime::Change &c)
{
    REQUIRE(runtime::apply(s, c));
    REQUIRE(store.record(c, s));
}

runtime::Store open(const fs::path &file)
{
    return runtime::Store(runtime::store_options(file));
}

runtime::State clean_load(runtime::Store &store)
{
    auto l = store.load();
    REQUIRE_FALSE(l.damaged());
    return l.state;
}

size_t lines(const std::string &t)
{
    return size_t(std::count(t.begin(), t.end(), '\n'));
}

} // namespace

TEST_CASE("journal: every kind of change round trips as one line")
{
    for (auto c : {add(7, 1700000000000000, "for goal-456 \"q\" ü"), remove({3, 9}), iface("eth0", "lan"),
                   iface("veth-x.1", ""), panic(true), panic(false)}) {
        c.seq = 42;
        auto line = runtime::format_change(c);
        INFO(line);
        REQUIRE(line.back() == '\n');
        CHECK(lines(line) == 1);
        auto back = runtime::parse_change(std::string_view(line).substr(0, line.size() - 1));
        REQUIRE(back);
        CHECK(*back == c);
    }
}

TEST_CASE("journal: hostile lines are refused, naming what")
{
    struct Case {
        std::string line, words;
    } cases[] = {
        {"", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{\"op\":\"panic\",\"on\":true}", "'seq'"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":0}", "'seq'"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":-1}", "'seq'"},
        {"{\"seq\":1}", "'op'"},
        {"{\"op\":5,\"seq\":1}", "'op'"},
        {"{\"op\":\"format-disk\",\"seq\":1}", "unknown op"},
        {"{\"op\":\"panic\",\"seq\":1}", "'on'"},
        {"{\"op\":\"panic\",\"on\":1,\"seq\":1}", "'on'"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":1,\"x\":1}", "unknown key 'x'"},
        {"{\"op\":\"remove\",\"seq\":1}", "'ids'"},
        {"{\"op\":\"remove\",\"ids\":[0],\"seq\":1}", "'ids'"},
        {"{\"op\":\"remove\",\"ids\":[\"3\"],\"seq\":1}", "'ids'"},
        {"{\"op\":\"remove\",\"ids\":3,\"seq\":1}", "'ids'"},
        {"{\"op\":\"interface\",\"name\":\"a/b\",\"zone\":\"wan\",\"seq\":1}", "'name'"},
        {"{\"op\":\"interface\",\"name\":\"0123456789abcdef\",\"zone\":\"wan\",\"seq\":1}", "'name'"},
        {"{\"op\":\"interface\",\"name\":\"eth0\",\"zone\":\"bad zone\",\"seq\":1}", "'zone'"},
        {"{\"op\":\"interface\",\"name\":\"eth0\",\"seq\":1}", "'zone'"},
        {"{\"op\":\"add\",\"seq\":1,\"zone\":\"wan\",\"spec\":\"x\"}", "'id'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":0,\"zone\":\"wan\",\"spec\":\"x\"}", "'id'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":1,\"zone\":\"wan\",\"spec\":\"\"}", "'spec'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":1,\"zone\":\"wan\",\"spec\":\"a\\u0000b\"}", "'spec'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":1,\"zone\":\"wan\",\"spec\":\"x\",\"comment\":\"a\\u0007\"}", "control"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":1,\"zone\":\"wan\",\"spec\":\"x\",\"owner\":\"me\"}", "unknown key"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":18446744073709551615}", "'seq'"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":9007199254740992}", "'seq'"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":18446744073709551616}", "'seq'"},
        {"{\"op\":\"panic\",\"on\":true,\"seq\":1e3}", "'seq'"},
        {"{\"op\":\"remove\",\"ids\":[18446744073709551615],\"seq\":1}", "'ids'"},
        {"{\"op\":\"remove\",\"ids\":[-1],\"seq\":1}", "'ids'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":18446744073709551615,\"zone\":\"wan\",\"spec\":\"x\"}", "'id'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":9007199254740992,\"zone\":\"wan\",\"spec\":\"x\"}", "'id'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":-5,\"zone\":\"wan\",\"spec\":\"x\"}", "'id'"},
        {"{\"op\":\"add\",\"seq\":1,\"id\":1,\"zone\":\"wan\",\"spec\":\"x\",\"expires_at_us\":18446744073709551615}",
         "'expires_at_us'"},
        {std::string(100000, '['), "longer than"},
        {std::string(5000, '[') + std::string(5000, ']'), "not a JSON object"},
    };
    for (const auto &c : cases) {
        INFO(c.line.substr(0, 200));
        auto r = runtime::parse_change(c.line, "rt.journal:3");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.rfind("rt.journal:3: ", 0) == 0);
        CHECK(r.error().message.find(c.words) != std::string::npos);
    }
}

TEST_CASE("journal: a change appends one line and leaves the snapshot alone")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    auto store = open(file);
    CHECK(store.journal() == d.path / "runtime.journal");
    auto s = clean_load(store);
    CHECK(s == runtime::State{});
    change(store, s, add(1));
    change(store, s, add(2, 5000, "c"));
    REQUIRE(store.compact(s));
    auto snapshot = slurp(file);
    change(store, s, iface("eth0", "lan"));
    change(store, s, panic(true));
    change(store, s, remove({1}));
    CHECK(slurp(file) == snapshot);   // untouched
    auto journal = slurp(store.journal());
    CHECK(lines(journal) == 3);
    CHECK(journal.size() < 200);      // three short lines
    CHECK(journal.find("\"op\":\"remove\"") != std::string::npos);
    CHECK(s.seq == 5);

    auto again = open(file);
    auto back = clean_load(again);
    CHECK(back == s);
    CHECK(back.rules.size() == 1);
    CHECK(back.rules.at(2).expires_at_us == 5000u);
    CHECK(back.panic);
    CHECK(back.interfaces.at("eth0") == "lan");
    CHECK(back.next_id == 3);
    // A journal line that moves an interface back out.
    change(again, back, iface("eth0", ""));
    auto third = open(file);
    CHECK(clean_load(third).interfaces.empty());
}

TEST_CASE("journal: an id of 2^64-1 is a bad line, not a wrapped next_id")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    auto store = open(file);
    auto s = clean_load(store);
    change(store, s, add(1));
    for (const char *id : {"18446744073709551615", "9007199254740992"}) {
        INFO(id);
        spew(store.journal(), slurp(store.journal()).substr(0, store.journal_bytes()) +
                                  "{\"op\":\"add\",\"seq\":2,\"id\":" + id +
                                  ",\"zone\":\"wan\",\"spec\":\"zone=wan proto=tcp dport=1 action=drop\"}\n");
        auto l = open(file).load();
        REQUIRE(l.journal.damage);
        CHECK(l.journal.damage->message.find("runtime.journal:2: add: 'id'") != std::string::npos);
        CHECK(l.state.next_id == 2);
        CHECK(l.state.rules.size() == 1);
    }
    // apply() refuses such an id too, changing nothing.
    auto c = add(1);
    c.rule.id = UINT64_MAX;
    auto before = s;
    CHECK_FALSE(runtime::apply(s, c));
    CHECK(s == before);
    c.rule.id = runtime::max_id;
    REQUIRE(runtime::apply(s, c));
    CHECK(s.next_id == runtime::max_id + 1);
}

TEST_CASE("journal: a full state refuses one more rule or interface, changing nothing")
{
    runtime::State s;
    for (uint64_t id = 1; id <= runtime::max_rules; ++id)
        s.rules[id] = {id, "wan", "x", 0, ""};
    s.next_id = runtime::max_rules + 1;
    auto before = s.rules.size();
    auto r = runtime::apply(s, add(runtime::max_rules + 1));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("more than") != std::string::npos);
    CHECK(s.rules.size() == before);
    CHECK(s.next_id == runtime::max_rules + 1);
    CHECK(runtime::apply(s, add(7)));   // replacing one held is fine
    runtime::State t;
    for (size_t i = 0; i < runtime::max_interfaces; ++i)
        t.interfaces["if" + std::to_string(i)] = "wan";
    CHECK_FALSE(runtime::apply(t, iface("one-more", "wan")));
    CHECK(runtime::apply(t, iface("if3", "lan")));
    CHECK(runtime::apply(t, iface("if4", "")));
}

namespace {

// runtime.json with a deny rule and panic on, then a journal: line 1 adds rule 2, line 2
// is `bad`, then `tail`.
runtime::Loaded damaged(const fs::path &dir, bool snapshot_panic, const std::string &bad,
                        const std::vector<runtime::Change> &tail, const std::string &prefix_extra = {})
{
    auto file = dir / "runtime.json";
    auto store = open(file);
    auto s = clean_load(store);
    change(store, s, add(1));
    s.rules[1].spec = "zone=wan proto=tcp dport=22 saddr=198.51.100.9/32 action=drop";
    s.panic = snapshot_panic;
    REQUIRE(store.compact(s));
    change(store, s, add(2));
    std::string journal = slurp(store.journal()) + prefix_extra + bad;
    uint64_t seq = 10;
    for (auto c : tail) {
        c.seq = seq++;
        journal += runtime::format_change(c);
    }
    spew(store.journal(), journal);
    return open(file).load();
}

} // namespace

TEST_CASE("recover: a bad journal line keeps the snapshot, the lines before it and panic")
{
    TempDir d;
    auto l = damaged(d.path, true, "{\"op\":\"panic\",\"on\":false,\"seq\":3,\"zz\":1}\n", {add(3)});
    REQUIRE(l.journal.damage);
    auto text = runtime::recover(l);
    INFO(text);
    const auto journal = (d.path / "runtime.journal").string();
    CHECK(text.rfind(journal + ":2: ", 0) == 0);   // file:line of the first bad line
    CHECK(text.find("kept the snapshot and the journal's 1 line before it") != std::string::npos);
    CHECK(text.find("2 runtime rules") != std::string::npos);
    CHECK(text.find("panic mode on") != std::string::npos);
    CHECK(l.state.panic);
    CHECK(l.state.rules.at(1).spec.find("action=drop") != std::string::npos);   // the deny rule
    CHECK(l.state.rules.contains(2));
    CHECK_FALSE(l.state.rules.contains(3));   // past the damage: not trusted
    CHECK(l.state.next_id == 3);
}

TEST_CASE("recover: a panic turned on past the damage stays on; a trusted 'off' is kept")
{
    TempDir d;
    auto l = damaged(d.path, false, "garbage\n", {add(3), panic(true), panic(false)});
    CHECK_FALSE(l.state.panic);
    auto text = runtime::recover(l);
    INFO(text);
    CHECK(l.state.panic);
    CHECK(text.find("panic mode stays on: a line past the damage, seq 11") != std::string::npos);
    CHECK_FALSE(l.state.rules.contains(3));

    // The snapshot had panic on, a good line before the damage turned it off: that is
    // the state known last, and nothing after the damage turns it on again.
    TempDir e;
    auto off = runtime::format_change([] {
        auto c = panic(false);
        c.seq = 3;
        return c;
    }());
    auto k = damaged(e.path, true, "garbage\n", {add(3)}, off);
    runtime::recover(k);
    CHECK_FALSE(k.state.panic);
    CHECK(k.journal.lines == 2);
}

TEST_CASE("recover: an unreadable snapshot turns panic on over the journal's good lines")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    auto store = open(file);
    auto s = clean_load(store);
    change(store, s, add(1));
    REQUIRE(store.compact(s));
    change(store, s, add(2));
    change(store, s, iface("eth0", "lan"));
    for (const std::string &snapshot : {std::string("{\"version\":1,\"next_id\":"), std::string("\x01\x02"),
                                       std::string("{\"version\":2,\"next_id\":1}")}) {
        spew(file, snapshot);
        auto l = open(file).load();
        REQUIRE(l.snapshot_damage);
        auto text = runtime::recover(l);
        INFO(text);
        CHECK(text.rfind(file.string() + ": ", 0) == 0);
        CHECK(text.find("panic mode is on until it is turned off") != std::string::npos);
        CHECK(text.find("kept the journal's 2 lines") != std::string::npos);
        CHECK(l.state.panic);
        CHECK(l.state.rules.size() == 1);   // rule 1 was only in the snapshot
        CHECK(l.state.rules.contains(2));
        CHECK(l.state.interfaces.at("eth0") == "lan");
    }
}

TEST_CASE("recover: set aside, the recovered state (panic on) is what the next start reads")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    auto l = damaged(d.path, true, "garbage\n", {});
    auto store = open(file);
    l = store.load();
    REQUIRE_FALSE(runtime::recover(l).empty());
    auto aside = store.set_aside(l.state);
    REQUIRE(aside);
    CHECK(aside->kept.size() == 2);
    CHECK(fs::exists(d.path / "runtime.json.invalid"));
    CHECK(slurp(d.path / "runtime.journal.invalid").find("garbage") != std::string::npos);
    auto again = open(file);
    auto back = again.load();
    REQUIRE_FALSE(back.damaged());
    CHECK(runtime::recover(back).empty());
    CHECK(back.state == l.state);
    CHECK(back.state.panic);
    CHECK(back.state.rules.size() == 2);
}

TEST_CASE("journal: an empty path persists nothing")
{
    runtime::Store store;
    auto l = store.load();
    CHECK_FALSE(l.damaged());
    REQUIRE(runtime::apply(l.state, add(1)));
    CHECK(store.record(add(1), l.state));
    CHECK(store.compact(l.state));
}
