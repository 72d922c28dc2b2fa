// SPDX-License-Identifier: GPL-2.0-or-later
// runtime.journal: one line per change, appended (O(1) bytes per change), replayed onto
// the snapshot; compaction (explicit and when the journal outgrows the snapshot); a torn
// last line (a crash mid-append) ignored and cut off; a crash between writing the
// snapshot and emptying the journal; hostile lines refused with file:line.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "runtime.hpp"

using namespace alopex::fwd;
namespace fs = std::filesystem;
using Kind = runtime::Change::Kind;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string t = (fs::temp_directory_path() / "fwd-journal-XXXXXX").string();
        REQUIRE(mkdtemp(t.data()) != nullptr);
        path = t;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path &p)
{
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void spew(const fs::path &p, const std::string &text, bool append = false)
{
    std::ofstream f(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    f << text;
}

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
    runtime::apply(s, c);
    if (c.kind == Kind::add)
        s.next_id = std::max(s.next_id, c.rule.id + 1);
    REQUIRE(store.record(c, s));
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
    CHECK(runtime::journal_path(file) == d.path / "runtime.journal");
    runtime::Store store(file);
    auto s = store.load();
    REQUIRE(s);
    CHECK(*s == runtime::State{});
    change(store, *s, add(1));
    change(store, *s, add(2, 5000, "c"));
    change(store, *s, iface("eth0", "lan"));
    change(store, *s, panic(true));
    REQUIRE(runtime::save(file, runtime::State{}) );   // an old snapshot, like after a start
    auto snapshot = slurp(file);
    auto before = slurp(store.journal()).size();
    change(store, *s, remove({1}));
    CHECK(slurp(file) == snapshot);   // untouched
    auto journal = slurp(store.journal());
    CHECK(journal.size() > before);
    CHECK(journal.size() - before < 100);   // one short line
    CHECK(lines(journal) == 5);
    CHECK(store.journal_bytes() == journal.size());
    CHECK(s->seq == 5);

    runtime::Store again(file);
    auto back = again.load();
    REQUIRE(back);
    CHECK(*back == *s);
    CHECK(back->rules.size() == 1);
    CHECK(back->rules.at(2).expires_at_us == 5000u);
    CHECK(back->panic);
    CHECK(back->interfaces.at("eth0") == "lan");
    CHECK(back->next_id == 3);

    // A journal line that moves an interface back out.
    change(store, *s, iface("eth0", ""));
    back = runtime::Store(file).load();
    REQUIRE(back);
    CHECK(back->interfaces.empty());
}

TEST_CASE("journal: compaction writes the snapshot and empties the journal")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    runtime::Store store(file);
    auto s = store.load();
    REQUIRE(s);
    for (uint64_t id = 1; id <= 10; ++id)
        change(store, *s, add(id));
    change(store, *s, remove({4, 5}));
    REQUIRE(store.compact(*s));
    CHECK_FALSE(fs::exists(store.journal()));
    CHECK(store.journal_bytes() == 0);
    auto snap = runtime::load(file);
    REQUIRE(snap);
    CHECK(*snap == *s);
    CHECK(snap->seq == 11);
    // Numbering goes on after the snapshot's seq.
    change(store, *s, add(11));
    CHECK(slurp(store.journal()).find("\"seq\":12") != std::string::npos);
    auto back = runtime::Store(file).load();
    REQUIRE(back);
    CHECK(*back == *s);
}

TEST_CASE("journal: it is compacted by itself once it outgrows the snapshot")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    runtime::Store store(file);
    auto s = store.load();
    REQUIRE(s);
    // Adds and removes: the state stays small, the journal would grow without bound.
    uint64_t compactions = 0, last = 0;
    for (uint64_t id = 1; id <= 800; ++id) {
        change(store, *s, add(id, 0, std::string(120, 'c')));
        if (id > 2)
            change(store, *s, remove({id - 2}));
        CHECK(store.journal_bytes() <= runtime::min_compact_size);
        if (store.journal_bytes() < last)
            ++compactions;
        last = store.journal_bytes();
    }
    CHECK(compactions >= 2);
    CHECK(fs::exists(file));
    auto back = runtime::Store(file).load();
    REQUIRE(back);
    CHECK(*back == *s);
    CHECK(back->rules.size() == 2);
}

TEST_CASE("journal: a torn last line is ignored and cut off before the next append")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    runtime::State s;
    {
        runtime::Store store(file);
        auto l = store.load();
        REQUIRE(l);
        s = *l;
        change(store, s, add(1));
        change(store, s, add(2));
    }
    // A crash in the middle of the third append.
    auto torn = runtime::format_change([] {
        auto c = add(3);
        c.seq = 3;
        return c;
    }());
    spew(runtime::journal_path(file), torn.substr(0, torn.size() / 2), true);

    runtime::Store store(file);
    auto back = store.load();
    REQUIRE(back);
    CHECK(*back == s);
    CHECK(back->rules.size() == 2);
    // Even a complete line without its newline was not acknowledged: ignored as well.
    spew(runtime::journal_path(file), slurp(runtime::journal_path(file)).substr(0, store.journal_bytes()) +
                                          torn.substr(0, torn.size() - 1));
    back = runtime::Store(file).load();
    REQUIRE(back);
    CHECK(back->rules.size() == 2);

    change(store, *back, add(4));
    auto journal = slurp(store.journal());
    CHECK(lines(journal) == 3);
    CHECK(journal.back() == '\n');
    auto after = runtime::Store(file).load();
    REQUIRE(after);
    CHECK(*after == *back);
    CHECK(after->rules.contains(4));
    CHECK_FALSE(after->rules.contains(3));
}

TEST_CASE("journal: a crash between the new snapshot and emptying the journal loses nothing")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    runtime::Store store(file);
    auto s = store.load();
    REQUIRE(s);
    change(store, *s, add(1));
    change(store, *s, add(5));
    auto old_journal = slurp(store.journal());
    // The next change goes into a snapshot (as when the journal outgrew it)...
    runtime::apply(*s, remove({5}));
    s->seq += 1;
    REQUIRE(store.compact(*s));
    // ...and the crash came before the old journal was gone.
    spew(runtime::journal_path(file), old_journal);
    auto back = runtime::Store(file).load();
    REQUIRE(back);
    CHECK(*back == *s);
    CHECK_FALSE(back->rules.contains(5));   // the old "add 5" is not replayed
}

TEST_CASE("journal: damage before the last line is refused with file:line")
{
    TempDir d;
    auto file = d.path / "runtime.json";
    runtime::Store store(file);
    auto s = store.load();
    REQUIRE(s);
    change(store, *s, add(1));
    change(store, *s, add(2));
    auto good = slurp(store.journal());
    auto first_nl = good.find('\n');

    struct Case {
        std::string text, words;
    } cases[] = {
        {good.substr(0, first_nl + 1) + "garbage\n" + good.substr(first_nl + 1), "runtime.journal:2:"},
        {good + good, "not above the previous seq"},        // seqs must ascend
        {std::string("\n") + good, "runtime.journal:1:"},   // an empty line
        {good + "{\"op\":\"panic\",\"on\":true,\"seq\":9,\"zz\":1}\n", "runtime.journal:3: "},
    };
    for (const auto &c : cases) {
        INFO(c.text);
        spew(store.journal(), c.text);
        auto r = runtime::Store(file).load();
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find(c.words) != std::string::npos);
    }
    // A journal that is not a regular file.
    fs::remove(store.journal());
    fs::create_directory(store.journal());
    CHECK_FALSE(runtime::Store(file).load());
    fs::remove(store.journal());
    // Bigger than the cap.
    {
        std::ofstream f(store.journal(), std::ios::binary);
        f.seekp(std::streamoff(runtime::max_journal_size) + 10);
        f << '\n';
    }
    CHECK_FALSE(runtime::Store(file).load());
}

TEST_CASE("journal: an empty path persists nothing")
{
    runtime::Store store;
    auto s = store.load();
    REQUIRE(s);
    runtime::apply(*s, add(1));
    CHECK(store.record(add(1), *s));
    CHECK(store.compact(*s));
}
