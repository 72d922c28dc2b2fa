// SPDX-License-Identifier: GPL-2.0-or-later
// OVSDB's wire, against the bytes Debian's ovsdb-server really sent (ovsdb-samples/):
// messages split from a stream in any chunking, checked like ovsdb-server checks them,
// values decoded against the real schema's column types, update2 diffs applied, and
// hostile input (bytes between messages, huge or deep texts, wrong types, malformed
// UUIDs, duplicates, counts out of range) refused with an error that names the column.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datum.hpp"
#include "json_stream.hpp"
#include "rpc.hpp"
#include "samples.hpp"
#include "schema.hpp"

using namespace alopex::ovs::ovsdb;
using json = nlohmann::json;

namespace {

using ovs_test::sample_text;
using ovs_test::vswitch;

const ColumnType &column(const char *table, const char *name)
{
    const ColumnType *t = vswitch().table(table)->column(name);
    REQUIRE(t);
    return *t;
}

std::vector<std::string> split(const std::string &stream, size_t chunk)
{
    JsonSplitter s;
    std::vector<std::string> out;
    for (size_t i = 0; i < stream.size(); i += chunk)
        REQUIRE(s.feed(std::span(stream).subspan(i, std::min(chunk, stream.size() - i)), out));
    CHECK(s.buffered() == 0);
    return out;
}

} // namespace

TEST_CASE("ovsdb stream: messages back to back split alike in any chunking", "[ovs][ovsdb]")
{
    std::vector<std::string> texts = {sample_text("update2.insert_port_own_txn.json"), sample_text("transact.insert_port.reply.json"),
                                      sample_text("monitor_cond.reply.json"), sample_text("echo.server_probe.tcp.request.json"),
                                      R"({"id":"x","result":["}]\"{[",{"a":"\\"}],"error":null})"};
    std::string stream;
    for (const auto &t : texts)
        stream += t;
    stream.insert(texts[0].size(), " \r\n\t");   // whitespace between messages is allowed
    for (size_t chunk : {size_t{1}, size_t{2}, size_t{7}, size_t{100}, stream.size()})
        CHECK(split(stream, chunk) == texts);
    std::mt19937 rng(5);
    JsonSplitter s;
    std::vector<std::string> out;
    for (size_t i = 0; i < stream.size();) {
        size_t n = std::min<size_t>(1 + rng() % 300, stream.size() - i);
        REQUIRE(s.feed(std::span(stream).subspan(i, n), out));
        i += n;
    }
    CHECK(out == texts);
    for (const auto &t : out)
        CHECK(parse_message(t));
}

TEST_CASE("ovsdb stream hostile: bytes between messages, size and depth limits; the stream stays failed",
          "[ovs][ovsdb]")
{
    std::vector<std::string> out;
    JsonSplitter a;
    auto r = a.feed(std::string_view("{\"id\":1,\"result\":1} x{}"), out);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "byte 0x78 between messages (a JSON-RPC message is an object)");
    CHECK(out.size() == 1);
    CHECK(a.failed());
    CHECK_FALSE(a.feed(std::string_view("{}"), out));   // no resynchronising
    a.reset();
    CHECK(a.feed(std::string_view("{}"), out));
    JsonSplitter arr;
    CHECK_FALSE(arr.feed(std::string_view("[1]"), out));
    JsonSplitter small(64);
    r = small.feed(std::string(100, ' ') + "{\"a\":\"" + std::string(100, 'x'), out);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "a message longer than 64 bytes");
    JsonSplitter deep;
    r = deep.feed(std::string(1, '{') + std::string(100, '['), out);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "nesting deeper than 64");
    JsonSplitter open;   // a text never finished is only buffered
    CHECK(open.feed(std::string_view("{\"a\":\"}}}}"), out));
    CHECK(open.buffered() == 10);
}

TEST_CASE("ovsdb messages: replies, errors, notifications and requests as ovsdb-server sends them",
          "[ovs][ovsdb]")
{
    auto reply = parse_message(sample_text("transact.insert_port.reply.json"));
    REQUIRE(reply);
    CHECK(reply->kind == Message::Kind::Reply);
    CHECK(reply->result.is_array());
    auto note = parse_message(sample_text("update2.add_port.json"));
    REQUIRE(note);
    CHECK(note->kind == Message::Kind::Notification);
    CHECK(note->method == "update2");
    CHECK(note->params.size() == 2);
    auto probe = parse_message(sample_text("echo.server_probe.tcp.request.json"));
    REQUIRE(probe);
    CHECK(probe->kind == Message::Kind::Request);
    CHECK(probe->id == "echo");
    CHECK(json::parse(reply_text(probe->params, probe->id)) == json::parse(R"({"id":"echo","result":[],"error":null})"));
    auto err = parse_message(sample_text("error.unknown_method.reply.json"));
    REQUIRE(err);
    CHECK(err->kind == Message::Kind::Error);
    CHECK(err->error_text() == "unknown method");
    auto structured = parse_message(R"({"id":5,"result":null,"error":{"error":"syntax error","details":"bad op"}})");
    REQUIRE(structured);
    CHECK(structured->error_text() == "syntax error: bad op");
    CHECK(json::parse(request_text("echo", json::array(), 7)) == json::parse(R"({"method":"echo","params":[],"id":7})"));

    auto refused = [](const char *text) {
        auto m = parse_message(text);
        REQUIRE_FALSE(m);
        return m.error().message;
    };
    CHECK(refused("{\"id\":1,") == "not JSON");
    CHECK(refused("[1]") == "a JSON-RPC message must be an object");
    CHECK(refused(R"({"method":"echo","params":[],"id":1,"jsonrpc":"2.0"})") == "unknown member \"jsonrpc\"");
    CHECK(refused(R"({"method":"echo","params":{},"id":1})") == "\"params\" is not an array");
    CHECK(refused(R"({"method":1,"params":[],"id":1})") == "\"method\" is not a string");
    CHECK(refused(R"({"method":"echo","id":1})") == "a request without \"params\"");
    CHECK(refused(R"({"method":"echo","params":[],"result":1,"id":1})") == "a request with \"result\" or \"error\"");
    CHECK(refused(R"({"id":1,"result":null,"error":null})") == "a reply without \"result\"");
    CHECK(refused(R"({"result":1,"error":null,"id":null})") == "a reply without an id");
    CHECK(refused("{\"id\":1,\"result\":\"\xff\"}") == "not JSON");   // not UTF-8
}

TEST_CASE("ovsdb schema: the real vswitch schema's column types", "[ovs][ovsdb]")
{
    CHECK(vswitch().name == "Open_vSwitch");
    CHECK(column("Port", "tag") == ColumnType{AtomType::Integer, {}, 0, 1});
    CHECK(column("Port", "trunks") == ColumnType{AtomType::Integer, {}, 0, 4096});
    CHECK(column("Port", "interfaces") == ColumnType{AtomType::Uuid, {}, 1, 0});
    CHECK(column("Bridge", "external_ids") == ColumnType{AtomType::String, AtomType::String, 0, 0});
    CHECK(column("Open_vSwitch", "next_cfg") == ColumnType{AtomType::Integer, {}, 1, 1});
    CHECK(column("Interface", "_uuid") == ColumnType{AtomType::Uuid, {}, 1, 1});
    auto bad = [](const char *text) {
        auto t = parse_column_type(json::parse(text), "T.c");
        REQUIRE_FALSE(t);
        return t.error().message;
    };
    CHECK(bad(R"("float")") == "T.c: \"float\" is not an atomic type");
    CHECK(bad(R"({"min":0})") == "T.c: a type without \"key\"");
    CHECK(bad(R"({"key":"string","min":2})") == "T.c: \"min\" must be 0 or 1");
    CHECK(bad(R"({"key":"string","max":0})") == "T.c: \"max\" must be a positive integer or \"unlimited\"");
    CHECK(bad(R"({"key":{"minInteger":1}})") == "T.c: a base type without \"type\"");
    CHECK_FALSE(parse_schema(json::parse(R"({"name":"x","tables":{"T":{"columns":{"c":{}}}}})")));
    CHECK_FALSE(parse_schema(json::parse(R"({"tables":{}})")));
}

TEST_CASE("ovsdb values: decoded against the column's type, encoded back alike", "[ovs][ovsdb]")
{
    const auto &tag = column("Port", "tag"), &trunks = column("Port", "trunks"),
               &ids = column("Port", "external_ids"), &ifaces = column("Port", "interfaces");
    auto d = decode_datum(json(10), tag, "Port.tag");
    REQUIRE(d);
    CHECK(*d->single() == Atom{int64_t{10}});
    auto none = decode_datum(json::parse(R"(["set",[]])"), tag, "Port.tag");
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(*none == Datum::default_of(tag));
    auto t = decode_datum(json::parse(R"(["set",[300,100,200]])"), trunks, "Port.trunks");
    REQUIRE(t);
    CHECK(t->keys() == std::vector<Atom>{int64_t{100}, int64_t{200}, int64_t{300}});
    CHECK(encode_datum(*t, trunks) == json::parse(R"(["set",[100,200,300]])"));
    CHECK(encode_datum(*d, tag) == json(10));
    auto m = decode_datum(json::parse(R"(["map",[["z","1"],["alopex-owner","yes"]]])"), ids, "Port.external_ids");
    REQUIRE(m);
    CHECK(*m->find(Atom{std::string("alopex-owner")}) == Atom{std::string("yes")});
    CHECK(m->find(Atom{std::string("nope")}) == nullptr);
    CHECK(encode_datum(*m, ids) == json::parse(R"(["map",[["alopex-owner","yes"],["z","1"]]])"));
    auto u = decode_datum(json::parse(R"(["uuid","8C0572D2-0c86-4fbe-8d77-d1a2b571b97e"])"), ifaces, "Port.interfaces");
    REQUIRE(u);
    CHECK(std::get<Uuid>(*u->single()).to_string() == "8c0572d2-0c86-4fbe-8d77-d1a2b571b97e");
    CHECK(Datum::default_of(column("Open_vSwitch", "next_cfg")) == Datum::atom(int64_t{0}));

    auto bad = [](const json &j, const ColumnType &c) {
        auto r = decode_datum(j, c, "Port.x");
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(bad(json("10"), tag) == "Port.x: \"10\" is not an integer");
    CHECK(bad(json(1.5), tag) == "Port.x: 1.5 is not an integer");
    CHECK(bad(json::parse("18446744073709551615"), tag) == "Port.x: 18446744073709551615 is not an integer");
    CHECK(bad(json::parse(R"(["set",[1,2]])"), tag) == "Port.x: 2 elements, the column takes 0..1");
    CHECK(bad(json::parse(R"(["set",[1,1]])"), trunks) == "Port.x: a member twice in a set");
    CHECK(bad(json::parse(R"(["map",[["a","1"],["a","2"]]])"), ids) == "Port.x: a key twice in a map");
    CHECK(bad(json::parse(R"(["map",[["a"]]])"), ids) == "Port.x: [\"a\"] is not a [key, value] pair");
    CHECK(bad(json::parse(R"(["set",[["a","b"]]])"), ids).starts_with("Port.x: [\"set\",[[\"a\",\"b\"]]] is not a map"));
    CHECK(bad(json::parse(R"(["uuid","8c0572d2-0c86-4fbe-8d77-d1a2b571b97"])"), ifaces) ==
          "Port.x: \"8c0572d2-0c86-4fbe-8d77-d1a2b571b97\" is not a UUID");
    CHECK(bad(json::parse(R"(["uuid","8c0572d2x0c86-4fbe-8d77-d1a2b571b97e"])"), ifaces).ends_with("is not a UUID"));
    CHECK(bad(json::parse(R"(["named-uuid","row1"])"), ifaces).ends_with("is not a uuid"));
    CHECK(bad(json::parse(R"(["set",[]])"), ifaces) == "Port.x: 0 elements, the column takes 1..unlimited");
    CHECK(bad(json(std::string(100, 'x')), ifaces).size() < 90);   // the quote is cut
}

TEST_CASE("ovsdb values: update2 diffs, as ovsdb-server(7) and the server's own diffs say", "[ovs][ovsdb]")
{
    const auto &tag = column("Port", "tag"), &trunks = column("Port", "trunks"), &ids = column("Port", "external_ids");
    auto dec = [](const char *text, const ColumnType &t) {
        auto d = decode_datum(json::parse(text), t, "x", false);
        REQUIRE(d);
        return *d;
    };
    Datum v = dec("10", tag);
    v.apply_diff(dec("20", tag), tag);   // a single value: the diff is the new value
    CHECK(v == dec("20", tag));
    v.apply_diff(dec(R"(["set",[]])", tag), tag);
    CHECK(v.empty());
    // trunks {} -> {100} -> {100,200} -> {200,300,400}: the diffs the server sent.
    Datum t;
    t.apply_diff(dec("100", trunks), trunks);
    t.apply_diff(dec("200", trunks), trunks);
    CHECK(t == dec(R"(["set",[100,200]])", trunks));
    t.apply_diff(dec(R"(["set",[100,300,400]])", trunks), trunks);
    CHECK(t == dec(R"(["set",[200,300,400]])", trunks));
    // The map diff of update2.external_ids.json on {alopex-id: c1, alopex-owner: yes}.
    Datum m = dec(R"(["map",[["alopex-id","c1"],["alopex-owner","yes"]]])", ids);
    m.apply_diff(dec(R"(["map",[["alopex-id","c1"],["alopex-owner","no"],["k","v"]]])", ids), ids);
    CHECK(m == dec(R"(["map",[["alopex-owner","no"],["k","v"]]])", ids));
}
