// SPDX-License-Identifier: GPL-2.0-or-later
// alopex/store.hpp with a toy record format (key=value): a change appends one line and
// leaves the snapshot alone; compaction (explicit and when the journal outgrows the
// snapshot); a torn last line ignored and cut off; a crash between the new snapshot and
// the journal's removal; damage in the middle -> the good prefix, the error naming
// file:line and the lines past it handed over unapplied; an unreadable snapshot; setting
// damaged files aside; bounded sequence numbers.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include "alopex/store.hpp"

namespace fs = std::filesystem;
using alopex::test::TempDir;
using alopex::test::slurp;
using alopex::test::spew;
using alopex::Result;
namespace store = alopex::store;

namespace {

// Snapshot: "seq N\n" then "key=value\n" lines. Journal line: "N key=value" (empty value:
// the key goes). At most three keys.
struct Kv {
    struct State {
        uint64_t seq = 0;
        std::map<std::string, std::string> values;
        bool operator==(const State &) const = default;
    };
    struct Change {
        uint64_t seq = 0;
        std::string key, value;
        bool operator==(const Change &) const = default;
    };

    static Result<State> parse_snapshot(std::string_view text, std::string_view file)
    {
        State s;
        size_t pos = 0;
        bool first = true;
        while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            if (nl == std::string_view::npos)
                return alopex::failf(EINVAL, "{}: no final newline", file);
            std::string line(text.substr(pos, nl - pos));
            pos = nl + 1;
            if (first) {
                if (line.rfind("seq ", 0) != 0)
                    return alopex::failf(EINVAL, "{}: no seq line", file);
                s.seq = std::stoull(line.substr(4));
                first = false;
                continue;
            }
            auto eq = line.find('=');
            if (eq == std::string::npos || eq == 0)
                return alopex::failf(EINVAL, "{}: not key=value", file);
            s.values[line.substr(0, eq)] = line.substr(eq + 1);
        }
        if (first)
            return alopex::failf(EINVAL, "{}: empty", file);
        return s;
    }
    static std::string format_snapshot(const State &s)
    {
        std::string out = "seq " + std::to_string(s.seq) + "\n";
        for (const auto &[k, v] : s.values)
            out += k + "=" + v + "\n";
        return out;
    }
    static Result<Change> parse_change(std::string_view line, std::string_view where)
    {
        auto sp = line.find(' ');
        auto eq = line.find('=');
        if (sp == std::string_view::npos || eq == std::string_view::npos || eq < sp + 2 ||
            line.find_first_not_of("0123456789") != sp || sp == 0 || sp > 19)
            return alopex::failf(EINVAL, "{}: not 'seq key=value'", where);
        Change c;
        c.seq = std::stoull(std::string(line.substr(0, sp)));
        c.key = std::string(line.substr(sp + 1, eq - sp - 1));
        c.value = std::string(line.substr(eq + 1));
        return c;
    }
    static std::string format_change(const Change &c)
    {
        return std::to_string(c.seq) + " " + c.key + "=" + c.value + "\n";
    }
    static Result<> apply(State &s, const Change &c)
    {
        if (c.value.empty()) {
            s.values.erase(c.key);
            return {};
        }
        if (!s.values.contains(c.key) && s.values.size() >= 3)
            return alopex::fail(EINVAL, "more than 3 keys");
        s.values[c.key] = c.value;
        return {};
    }
};
static_assert(store::Codec<Kv>);
using Store = store::Store<Kv>;

size_t lines(const std::string &t)
{
    return size_t(std::count(t.begin(), t.end(), '\n'));
}

store::Options options(const fs::path &dir)
{
    store::Options o;
    o.snapshot = dir / "state.snap";
    return o;
}

Kv::Change set(std::string k, std::string v = "x")
{
    return {0, std::move(k), std::move(v)};
}

// What a daemon does: apply to its state, then record.
void change(Store &st, Kv::State &s, const Kv::Change &c)
{
    REQUIRE(Kv::apply(s, c));
    REQUIRE(st.record(c, s));
}

Kv::State clean_load(Store &st)
{
    auto l = st.load();
    INFO((l.snapshot_damage ? l.snapshot_damage->message : "") +
         (l.journal.damage ? l.journal.damage->message : ""));
    REQUIRE_FALSE(l.damaged());
    return l.state;
}

// A journal of three good lines (a=1, b=2, c=3) over an empty snapshot.
std::string three_lines(const fs::path &dir)
{
    Store st(options(dir));
    auto s = clean_load(st);
    change(st, s, set("a", "1"));
    change(st, s, set("b", "2"));
    change(st, s, set("c", "3"));
    return slurp(st.journal());
}

} // namespace

TEST_CASE("store: a change appends one line and leaves the snapshot alone")
{
    TempDir d;
    Store st(options(d.path));
    CHECK(st.journal() == d.path / "state.journal");
    auto s = clean_load(st);
    CHECK(s == Kv::State{});
    change(st, s, set("a", "1"));
    REQUIRE(st.compact(s));   // a snapshot, as after a start
    const auto snapshot = slurp(st.file());
    change(st, s, set("b", "2"));
    change(st, s, set("a", ""));
    CHECK(slurp(st.file()) == snapshot);
    const auto journal = slurp(st.journal());
    CHECK(journal == "2 b=2\n3 a=\n");
    CHECK(st.journal_bytes() == journal.size());
    CHECK(s.seq == 3);

    Store again(options(d.path));
    auto back = clean_load(again);
    CHECK(back == s);
    CHECK(back.values == std::map<std::string, std::string>{{"b", "2"}});
    // Numbering goes on after a reload, and the reloaded store appends.
    change(again, back, set("z", "9"));
    CHECK(slurp(st.journal()).substr(journal.size()) == "4 z=9\n");
}

TEST_CASE("store: the snapshot is written atomically, mode 0640, no temporary file left")
{
    TempDir d;
    Store st(options(d.path));
    auto s = clean_load(st);
    change(st, s, set("a", "1"));
    REQUIRE(st.compact(s));
    struct stat sb{};
    REQUIRE(::stat(st.file().c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0640);
    size_t entries = 0;
    for (const auto &e : fs::directory_iterator(d.path)) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);   // the snapshot; the journal is gone, no temporary file stays
    CHECK(slurp(st.file()) == "seq 1\na=1\n");
    // Into a directory that is not there: an error naming it, nothing else.
    Store nowhere(options(d.path / "no"));
    auto r = nowhere.compact(s);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find((d.path / "no").string()) != std::string::npos);
}

TEST_CASE("store: compaction writes the snapshot and empties the journal; seqs go on")
{
    TempDir d;
    Store st(options(d.path));
    auto s = clean_load(st);
    for (int i = 0; i < 5; ++i)
        change(st, s, set("k", std::to_string(i)));
    REQUIRE(st.compact(s));
    CHECK_FALSE(fs::exists(st.journal()));
    CHECK(st.journal_bytes() == 0);
    CHECK(slurp(st.file()) == "seq 5\nk=4\n");
    change(st, s, set("k", "5"));
    CHECK(slurp(st.journal()) == "6 k=5\n");
    Store again(options(d.path));
    CHECK(clean_load(again) == s);
}

TEST_CASE("store: the journal is compacted by itself once it outgrows the snapshot")
{
    TempDir d;
    auto o = options(d.path);
    o.min_compact = 256;
    Store st(o);
    auto s = clean_load(st);
    uint64_t compactions = 0, last = 0;
    for (int i = 0; i < 200; ++i) {
        change(st, s, set("k" + std::to_string(i % 2), std::string(20, char('a' + i % 26))));
        CHECK(st.journal_bytes() <= 256);
        if (st.journal_bytes() < last)
            ++compactions;
        last = st.journal_bytes();
    }
    CHECK(compactions >= 10);
    Store again(o);
    CHECK(clean_load(again) == s);
}

TEST_CASE("store: a torn last line is ignored and cut off before the next append")
{
    TempDir d;
    const auto good = three_lines(d.path);
    Store probe(options(d.path));
    const auto journal = probe.journal();
    for (std::string_view torn : {"4 a=", "4 a=4", "4 a=4\n4"}) {
        INFO(torn);
        spew(journal, good + std::string(torn));
        Store st(options(d.path));
        auto l = st.load();
        bool complete_line = torn.find('\n') != std::string::npos;
        if (complete_line) {
            // "4 a=4\n" is a good line; only the "4" after it is torn.
            REQUIRE_FALSE(l.damaged());
            CHECK(l.journal.torn);
            CHECK(l.state.values.at("a") == "4");
            continue;
        }
        REQUIRE_FALSE(l.damaged());
        CHECK(l.journal.torn);
        CHECK(l.journal.lines == 3);
        CHECK(l.journal.valid_bytes == good.size());
        CHECK(l.state.values.at("a") == "1");
        change(st, l.state, set("e", ""));
        CHECK(slurp(journal) == good + "4 e=\n");
    }
}

TEST_CASE("store: a crash between the new snapshot and the journal's removal loses nothing")
{
    TempDir d;
    Store st(options(d.path));
    auto s = clean_load(st);
    change(st, s, set("a", "1"));
    change(st, s, set("b", "2"));
    const auto old_journal = slurp(st.journal());
    // The next change goes into a snapshot (as when the journal outgrew it)...
    REQUIRE(Kv::apply(s, set("a", "")));
    s.seq += 1;
    REQUIRE(st.compact(s));
    // ...and the crash came before the old journal was gone: its lines are at or below
    // the snapshot's seq and are not applied again ("a" stays removed).
    spew(st.journal(), old_journal);
    Store again(options(d.path));
    auto l = again.load();
    REQUIRE_FALSE(l.damaged());
    CHECK(l.state == s);
    CHECK(l.journal.lines == 2);
    CHECK(l.journal.applied == 0);
    // Appends go after them, numbered after the snapshot.
    change(again, l.state, set("c", "3"));
    CHECK(slurp(st.journal()) == old_journal + "4 c=3\n");
    Store third(options(d.path));
    CHECK(clean_load(third) == l.state);
}

TEST_CASE("store: a bad line in the middle keeps the good prefix and names file:line")
{
    TempDir d;
    const auto good = three_lines(d.path);   // "1 a=1\n2 b=2\n3 c=3\n"
    const auto first = good.substr(0, good.find('\n') + 1);
    const auto rest = good.substr(first.size());
    Store probe(options(d.path));
    const std::string file = probe.journal().string();
    struct Case {
        std::string text;
        size_t bad_line;
        std::string words;
        std::map<std::string, std::string> kept;
        size_t after;   // lines past the damage that parse
    } cases[] = {
        {first + "garbage\n" + rest, 2, ":2: not 'seq key=value'", {{"a", "1"}}, 2},
        {first + first + rest, 2, ":2: seq 1 is not above the previous seq 1", {{"a", "1"}}, 2},
        {"\n" + good, 1, ":1: not", {}, 3},
        {good + "0 d=4\n", 4, ":4: seq 0 is not in 1..", {{"a", "1"}, {"b", "2"}, {"c", "3"}}, 0},
        {good + "9007199254740992 d=4\n", 4, ":4: seq 9007199254740992 is not in 1..",
         {{"a", "1"}, {"b", "2"}, {"c", "3"}}, 0},
        // The codec refuses the change (a fourth key): the state is as before it.
        {good + "4 d=4\n5 a=\n", 4, ":4: more than 3 keys", {{"a", "1"}, {"b", "2"}, {"c", "3"}}, 1},
    };
    for (const auto &c : cases) {
        INFO(c.text);
        spew(probe.journal(), c.text);
        Store st(options(d.path));
        auto l = st.load();
        REQUIRE(l.damaged());
        CHECK_FALSE(l.snapshot_damage);
        REQUIRE(l.journal.damage);
        CHECK(l.journal.damage->message.rfind(file + c.words, 0) == 0);
        CHECK(l.journal.bad_line == c.bad_line);
        CHECK(l.journal.lines == c.bad_line - 1);
        CHECK(l.state.values == c.kept);
        CHECK(l.journal.after_damage.size() == c.after);
        // The next append goes after the good prefix: the damage is cut off.
        change(st, l.state, set("a", "7"));
        Store again(options(d.path));
        auto back = clean_load(again);
        CHECK(back == l.state);
    }
    // What past the damage parses is handed over in file order, unapplied.
    spew(probe.journal(), first + "garbage\n" + rest + "junk\n4 z=1\n");
    auto l = Store(options(d.path)).load();
    REQUIRE(l.journal.after_damage.size() == 3);
    CHECK(l.journal.after_damage[0] == Kv::Change{2, "b", "2"});
    CHECK(l.journal.after_damage[2] == Kv::Change{4, "z", "1"});
    CHECK_FALSE(l.state.values.contains("z"));
}

TEST_CASE("store: an unreadable snapshot is damage; the journal is replayed onto an empty state")
{
    TempDir d;
    const auto good = three_lines(d.path);
    Store probe(options(d.path));
    for (std::string_view snap : {"garbage\n", "seq 1\n=x\n", "seq 9007199254740992\n"}) {
        INFO(snap);
        spew(probe.file(), std::string(snap));
        auto l = Store(options(d.path)).load();
        REQUIRE(l.snapshot_damage);
        CHECK(l.snapshot_damage->message.rfind(probe.file().string() + ": ", 0) == 0);
        CHECK_FALSE(l.journal.damage);
        CHECK(l.journal.lines == 3);
        CHECK(l.state.values.size() == 3);
    }
    // Too large, and not a regular file.
    auto o = options(d.path);
    o.max_snapshot = 8;
    spew(probe.file(), "seq 1\na=123456\n");
    auto l = Store(o).load();
    REQUIRE(l.snapshot_damage);
    CHECK(l.snapshot_damage->message.find("too large") != std::string::npos);
    fs::remove(probe.file());
    fs::create_directory(probe.file());
    l = Store(options(d.path)).load();
    REQUIRE(l.snapshot_damage);
    CHECK(l.snapshot_damage->message.find("not a regular file") != std::string::npos);
    fs::remove(probe.file());
    // A journal that cannot be read: damage before its first line, nothing of it kept.
    fs::remove(probe.journal());
    fs::create_directory(probe.journal());
    l = Store(options(d.path)).load();
    REQUIRE(l.journal.damage);
    CHECK(l.journal.damage->message.find(probe.journal().string()) != std::string::npos);
    CHECK(l.state == Kv::State{});
}

TEST_CASE("store: set_aside keeps the damaged files and saves the recovered state")
{
    TempDir d;
    Store st(options(d.path));
    auto s = clean_load(st);
    change(st, s, set("a", "1"));
    REQUIRE(st.compact(s));
    change(st, s, set("b", "2"));
    const auto snapshot = slurp(st.file());
    const auto journal = slurp(st.journal()) + "garbage\n3 c=3\n";
    spew(st.journal(), journal);
    // An older incident's file is replaced.
    spew(d.path / "state.snap.invalid", "old\n");

    Store again(options(d.path));
    auto l = again.load();
    REQUIRE(l.journal.damage);
    CHECK(l.state.values == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
    auto aside = again.set_aside(l.state);
    REQUIRE(aside);
    CHECK(aside->problems.empty());
    REQUIRE(aside->kept.size() == 2);
    CHECK(aside->kept[0] == d.path / "state.snap.invalid");
    CHECK(aside->kept[1] == d.path / "state.journal.invalid");
    CHECK(slurp(d.path / "state.snap.invalid") == snapshot);
    CHECK(slurp(d.path / "state.journal.invalid") == journal);
    CHECK_FALSE(fs::exists(again.journal()));
    CHECK(slurp(again.file()) == "seq 2\na=1\nb=2\n");
    // The recovered state loads cleanly and takes changes.
    change(again, l.state, set("d", "4"));
    Store third(options(d.path));
    auto back = clean_load(third);
    CHECK(back == l.state);
    CHECK(back.values.at("d") == "4");
    // With no snapshot there is nothing to keep of it.
    fs::remove(third.file());
    spew(third.journal(), "junk\n");
    Store fourth(options(d.path));
    auto l4 = fourth.load();
    REQUIRE(l4.journal.damage);
    aside = fourth.set_aside(l4.state);
    REQUIRE(aside);
    REQUIRE(aside->kept.size() == 1);
    CHECK(aside->kept[0] == d.path / "state.journal.invalid");
    CHECK(slurp(fourth.file()) == "seq 0\n");
}

TEST_CASE("store: record refuses to wrap the sequence number or to write two lines")
{
    TempDir d;
    Store st(options(d.path));
    auto s = clean_load(st);
    s.seq = store::max_seq - 1;
    change(st, s, set("a", "1"));
    CHECK(s.seq == store::max_seq);
    auto r = st.record(set("b", "2"), s);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("exhausted") != std::string::npos);
    CHECK(s.seq == store::max_seq);
    s.seq = 1;
    r = st.record(set("b", "2\n3 c"), s);
    REQUIRE_FALSE(r);
    CHECK(s.seq == 1);
    CHECK(lines(slurp(st.journal())) == 1);
}

TEST_CASE("store: an empty path persists nothing")
{
    Store st;
    auto l = st.load();
    CHECK_FALSE(l.damaged());
    CHECK(st.record(set("a"), l.state));
    CHECK(st.compact(l.state));
    CHECK(st.set_aside(l.state));
}
