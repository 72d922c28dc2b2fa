// SPDX-License-Identifier: GPL-2.0-or-later
// runtime.json: round trips, atomic save, strict refusal of hostile or damaged files, and
// the expiry helpers' order.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include "runtime.hpp"

using namespace alopex::fwd;
namespace fs = std::filesystem;
using alopex::test::TempDir;
using alopex::test::slurp;
using alopex::test::spew;

namespace {

runtime::State sample()
{
    runtime::State s;
    s.next_id = 8;
    s.panic = true;
    s.interfaces = {{"eth0", "wan"}, {"veth-x.1", "lan"}};
    s.seq = 3;
    s.rules[2] = {2, "wan", "zone=wan proto=tcp dport=80 action=accept", 0, "web"};
    s.rules[5] = {5, "lan", "zone=lan proto=udp dport=53 saddr=192.0.2.0/24 action=accept",
                  1700000000000000, "dns for goal-456 \"quoted\" ü"};
    s.rules[7] = {7, "wan", "zone=wan proto=tcp dport=22 action=drop", 1600000000000000, ""};
    return s;
}

std::string with(const std::string &body)
{
    return "{\"version\":1,\"next_id\":10," + body + "}";
}

} // namespace

TEST_CASE("runtime state: format and parse round trip")
{
    auto s = sample();
    auto text = runtime::format(s);
    REQUIRE(text.back() == '\n');
    auto back = runtime::parse(text, "runtime.json");
    REQUIRE(back);
    CHECK(*back == s);
    // Canonical: formatting again gives the same bytes.
    CHECK(runtime::format(*back) == text);
}

TEST_CASE("runtime state: an empty state round trips; optional keys default")
{
    runtime::State s;
    auto back = runtime::parse(runtime::format(s), "f");
    REQUIRE(back);
    CHECK(*back == s);
    auto minimal = runtime::parse("{\"version\":1,\"next_id\":1}", "f");
    REQUIRE(minimal);
    CHECK(minimal->rules.empty());
    CHECK_FALSE(minimal->panic);
    CHECK(minimal->interfaces.empty());
}

TEST_CASE("runtime state: the store keeps it in runtime.json and reads it back")
{
    TempDir d;
    auto p = d.path / "runtime.json";
    runtime::Store store(runtime::store_options(p));
    CHECK(store.journal() == d.path / "runtime.journal");
    auto none = store.load();
    REQUIRE_FALSE(none.damaged());
    CHECK(none.state == runtime::State{});

    REQUIRE(store.compact(sample()));
    auto back = runtime::Store(runtime::store_options(p)).load();
    REQUIRE_FALSE(back.damaged());
    CHECK(back.state == sample());
    struct stat st{};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0007) == 0);   // not world-readable

    // A second compaction replaces the file as a whole.
    auto s2 = sample();
    s2.rules.erase(7);
    s2.panic = false;
    REQUIRE(store.compact(s2));
    back = runtime::Store(runtime::store_options(p)).load();
    REQUIRE_FALSE(back.damaged());
    CHECK(back.state == s2);
}

TEST_CASE("runtime state: hostile and damaged input is refused with the file name")
{
    const char *bad[] = {
        "",
        "null",
        "[]",
        "{",
        "{\"version\":1}",                                   // next_id missing
        "{\"version\":2,\"next_id\":1}",                     // unknown version
        "{\"version\":1,\"next_id\":0}",
        "{\"version\":1,\"next_id\":-3}",
        "{\"version\":1,\"next_id\":\"5\"}",
        "{\"version\":1,\"next_id\":1.5}",
        "{\"version\":1,\"next_id\":1,\"extra\":true}",     // unknown key
        "{\"version\":1,\"next_id\":1,\"panic\":1}",
        "{\"version\":1,\"next_id\":1,\"interfaces\":[]}",
        "{\"version\":1,\"next_id\":1,\"interfaces\":{\"eth0\":1}}",
        "{\"version\":1,\"next_id\":1,\"interfaces\":{\"a/b\":\"wan\"}}",
        "{\"version\":1,\"next_id\":1,\"interfaces\":{\"0123456789abcdef\":\"wan\"}}",
        "{\"version\":1,\"next_id\":1,\"interfaces\":{\"eth0\":\"bad zone\"}}",
        "{\"version\":1,\"next_id\":1,\"interfaces\":{\"\":\"wan\"}}",
        "{\"version\":1,\"next_id\":1,\"rules\":{}}",
        "{\"version\":1,\"next_id\":1,\"rules\":[1]}",
        "{\"version\":1,\"next_id\":1,\"seq\":-1}",
        "{\"version\":1,\"next_id\":1,\"seq\":\"7\"}",
        // Numbers out of range: fwd wrote none of them; taken, they would wrap next_id or
        // the seq on the next change.
        "{\"version\":1,\"next_id\":18446744073709551615}",
        "{\"version\":1,\"next_id\":9007199254740993}",     // max_id + 2
        "{\"version\":1,\"next_id\":18446744073709551616}",  // 2^64: not an integer any more
        "{\"version\":1,\"next_id\":1e30}",
        "{\"version\":1,\"next_id\":1,\"seq\":18446744073709551615}",
        "{\"version\":1,\"next_id\":1,\"seq\":9007199254740992}",
        "{\"version\":18446744073709551617,\"next_id\":1}",
    };
    for (const char *t : bad) {
        INFO(t);
        auto r = runtime::parse(t, "/state/runtime.json");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.rfind("/state/runtime.json: ", 0) == 0);
    }
}

TEST_CASE("runtime state: bad rules are refused, naming the rule")
{
    const std::string rule_ok = "\"zone\":\"wan\",\"spec\":\"zone=wan proto=tcp dport=80 action=accept\"";
    struct Case {
        std::string body;
        std::string words;
    } cases[] = {
        {"\"rules\":[{" + rule_ok + "}]", "rules[0]: 'id'"},
        {"\"rules\":[{\"id\":0," + rule_ok + "}]", "rules[0]: 'id'"},
        {"\"rules\":[{\"id\":-1," + rule_ok + "}]", "rules[0]: 'id'"},
        {"\"rules\":[{\"id\":10," + rule_ok + "}]", "not below next_id"},
        {"\"rules\":[{\"id\":3," + rule_ok + "},{\"id\":3," + rule_ok + "}]", "rules[1]: id 3 is not above"},
        {"\"rules\":[{\"id\":4," + rule_ok + "},{\"id\":3," + rule_ok + "}]", "rules[1]"},
        {"\"rules\":[{\"id\":1,\"zone\":\"wan\",\"spec\":\"\"}]", "'spec'"},
        {"\"rules\":[{\"id\":1,\"zone\":\"wan\",\"spec\":5}]", "'spec'"},
        {"\"rules\":[{\"id\":1,\"zone\":\"wan\",\"spec\":\"a\\nb\"}]", "'spec'"},
        {"\"rules\":[{\"id\":1,\"zone\":\"\",\"spec\":\"x\"}]", "'zone'"},
        {"\"rules\":[{\"id\":1,\"zone\":\"wan!\",\"spec\":\"x\"}]", "'zone'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"expires_at_us\":-5}]", "'expires_at_us'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"expires_at_us\":\"soon\"}]", "'expires_at_us'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"comment\":7}]", "'comment'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"comment\":\"" + std::string(128, 'x') + "\"}]", "comment"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"comment\":\"a\\u0007b\"}]", "control"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"owner\":\"me\"}]", "unknown key 'owner'"},
        {"\"rules\":[{\"id\":18446744073709551615," + rule_ok + "}]", "rules[0]: 'id'"},
        {"\"rules\":[{\"id\":9007199254740992," + rule_ok + "}]", "rules[0]: 'id'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"expires_at_us\":18446744073709551615}]",
         "'expires_at_us'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"expires_at_us\":9007199254740992}]",
         "'expires_at_us'"},
        {"\"rules\":[{\"id\":1," + rule_ok + ",\"expires_at_us\":1.5}]", "'expires_at_us'"},
    };
    for (const auto &c : cases) {
        INFO(c.body);
        auto r = runtime::parse(with(c.body), "rt.json");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find(c.words) != std::string::npos);
    }
    // The largest numbers fwd can write are taken.
    auto top = runtime::parse("{\"version\":1,\"next_id\":9007199254740992,\"seq\":9007199254740991,"
                              "\"rules\":[{\"id\":9007199254740991," + rule_ok +
                                  ",\"expires_at_us\":9007199254740991}]}",
                              "f");
    REQUIRE(top);
    CHECK(top->next_id == runtime::max_id + 1);
    CHECK(top->rules.at(runtime::max_id).expires_at_us == runtime::max_time_us);
    // A spec of exactly the limit is fine, one byte more is not.
    auto at_limit = with("\"rules\":[{\"id\":1,\"zone\":\"wan\",\"spec\":\"" +
                         std::string(runtime::max_spec, 'x') + "\"}]");
    CHECK(runtime::parse(at_limit, "f"));
    auto over = with("\"rules\":[{\"id\":1,\"zone\":\"wan\",\"spec\":\"" +
                     std::string(runtime::max_spec + 1, 'x') + "\"}]");
    CHECK_FALSE(runtime::parse(over, "f"));
}

TEST_CASE("runtime state: deeply nested or huge input does not crash")
{
    std::string deep(100000, '[');
    CHECK_FALSE(runtime::parse(deep, "f"));
    std::string deep_obj = with("\"rules\":[" + std::string(50000, '[') + std::string(50000, ']') + "]");
    CHECK_FALSE(runtime::parse(deep_obj, "f"));
    std::string huge(runtime::max_file_size + 1, ' ');
    auto r = runtime::parse(huge, "f");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("larger than") != std::string::npos);
}

TEST_CASE("runtime state: comments for AddRule")
{
    CHECK(runtime::check_comment(""));
    CHECK(runtime::check_comment("for goal-456, ü"));
    CHECK(runtime::check_comment(std::string(127, 'c')));
    auto r = runtime::check_comment(std::string(128, 'c'));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.rfind("comment: ", 0) == 0);
    CHECK(r.error().bus_name == alopex::bus_error::InvalidArgument);
    CHECK_FALSE(runtime::check_comment("a\nb"));
    CHECK_FALSE(runtime::check_comment(std::string("a\0b", 3)));
}

TEST_CASE("runtime state: expiry order and removal")
{
    runtime::State s;
    s.next_id = 10;
    for (const runtime::StoredRule &r : std::initializer_list<runtime::StoredRule>{
             {1, "wan", "a", 0, ""},         // never
             {2, "wan", "b", 5000, ""},
             {3, "wan", "c", 3000, ""},
             {4, "wan", "d", 9000, ""},
             {5, "wan", "e", 3000, ""},
         })
        s.rules[r.id] = r;
    runtime::Deadlines d;
    d.rebuild(s);
    CHECK(d.size() == 4);
    CHECK(d.next(0) == 3000u);
    CHECK(d.expired(2999).empty());
    CHECK(d.expired(3000) == std::vector<uint64_t>{3, 5});
    CHECK(d.next(3000) == 5000u);
    CHECK(d.expired(8999) == std::vector<uint64_t>{2, 3, 5});
    CHECK(d.next(9000) == std::nullopt);
    d.remove(s.rules[3]);
    d.remove(s.rules[1]);   // no deadline: not there, nothing happens
    CHECK(d.expired(3000) == std::vector<uint64_t>{5});
    d.add({6, "wan", "f", 100, ""});
    CHECK(d.next(0) == 100u);
    CHECK(runtime::next_deadline(s, 0) == 3000u);
    CHECK(runtime::expired(s, 2999).empty());
    CHECK(runtime::expired(s, 3000) == std::vector<uint64_t>{3, 5});
    CHECK(runtime::next_deadline(s, 3000) == 5000u);
    CHECK(runtime::expired(s, 8999) == std::vector<uint64_t>{2, 3, 5});
    CHECK(runtime::next_deadline(s, 9000) == std::nullopt);

    CHECK(runtime::remove(s, runtime::expired(s, 5000)) == 3);
    REQUIRE(s.rules.size() == 2);
    CHECK(s.rules.begin()->first == 1);
    CHECK(std::next(s.rules.begin())->first == 4);
    CHECK(runtime::next_deadline(s, 0) == 9000u);
    CHECK(runtime::find(s, 4) != nullptr);
    CHECK(runtime::find(s, 2) == nullptr);
    CHECK(runtime::find(s, 0) == nullptr);
    CHECK(runtime::remove(s, {42}) == 0);
    // Ids are never reused: next_id does not go down when rules go.
    CHECK(s.next_id == 10);
}
