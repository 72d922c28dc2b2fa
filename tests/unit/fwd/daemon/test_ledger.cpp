// SPDX-License-Identifier: GPL-2.0-or-later
// The details of fwd's ledger records: one JSON object, fields in order, strings escaped
// (quotes, control characters, invalid UTF-8 replaced rather than refused).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger.hpp"

using namespace alopex::fwd;

TEST_CASE("ledger details are one JSON object with the fields in order")
{
    auto d = ledger_details({{"id", uint64_t(7)},
                             {"spec", std::string("zone=wan proto=tcp dport=80 action=accept")},
                             {"on", true},
                             {"ids", std::vector<uint64_t>{1, 2}}});
    CHECK(d == R"({"id":7,"spec":"zone=wan proto=tcp dport=80 action=accept","on":true,"ids":[1,2]})");
    CHECK(ledger_details({}) == "{}");
}

TEST_CASE("hostile strings in ledger details stay one valid JSON object")
{
    std::string comment = "a\"b\\c\nd\x01";
    comment += "\xff\xfe";   // not UTF-8
    auto d = ledger_details({{"comment", comment}});
    auto j = nlohmann::json::parse(d);   // throws if not valid JSON
    REQUIRE(j.is_object());
    CHECK(j.size() == 1);
    CHECK(j["comment"].get<std::string>().starts_with("a\"b\\c\nd\x01"));
}
