// SPDX-License-Identifier: GPL-2.0-or-later
// The ovs-agentd unit tests' fixtures: the bytes Debian's ovsdb-server sent
// (ovsdb-samples/), and a copy of the database filled from them.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ovsdb/replica.hpp"
#include "ovsdb/rpc.hpp"
#include "port_ops.hpp"

namespace ovs_test {

inline std::string sample_text(const std::string &name)
{
    std::ifstream f(std::string(ALOPEX_OVSDB_SAMPLES) + "/" + name, std::ios::binary);
    REQUIRE(f);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

inline nlohmann::json sample(const std::string &name)
{
    return nlohmann::json::parse(sample_text(name));
}

inline const alopex::ovs::ovsdb::Schema &vswitch()
{
    static const alopex::ovs::ovsdb::Schema s = [] {
        auto parsed = alopex::ovs::ovsdb::parse_schema(sample("get_schema.reply.json")["result"]);
        REQUIRE(parsed);
        return *parsed;
    }();
    return s;
}

// The agent's copy (monitored() columns) after monitor_cond's initial rows: br0 with
// ports br0, p1 (tag 10, alopex-owner=yes) and p2.
inline alopex::ovs::ovsdb::Replica copy()
{
    auto r = alopex::ovs::ovsdb::Replica::create(vswitch(), alopex::ovs::monitored());
    REQUIRE(r);
    REQUIRE(r->apply(sample("monitor_cond.reply.json")["result"]));
    return std::move(*r);
}

// The UUID of the row of `table` called `name`, as text ("" when there is none).
inline std::string uuid_of(const alopex::ovs::ovsdb::Replica &r, const char *table, const char *name)
{
    for (const auto &[u, row] : r.rows(table))
        if (alopex::ovs::name_of(row) == name)
            return u.to_string();
    return "";
}

} // namespace ovs_test
