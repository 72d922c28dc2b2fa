// SPDX-License-Identifier: GPL-2.0-or-later
// A database schema as get_schema returns it (RFC 7047 §3.2), reduced to what decoding
// needs: each table's columns and their types. Pure. The agent reads the schema from
// the server it is connected to instead of compiling one in, so a newer Open vSwitch
// with more columns or wider types is followed, and a column it needs that the server
// lacks is an error named at connect time.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"
#include "datum.hpp"

namespace alopex::ovs::ovsdb {

struct TableSchema {
    std::map<std::string, ColumnType, std::less<>> columns;
    const ColumnType *column(std::string_view name) const
    {
        auto it = columns.find(name);
        return it == columns.end() ? nullptr : &it->second;
    }
};

struct Schema {
    std::string name, version;
    std::map<std::string, TableSchema, std::less<>> tables;
    const TableSchema *table(std::string_view name) const
    {
        auto it = tables.find(name);
        return it == tables.end() ? nullptr : &it->second;
    }
};

// <type>: an atomic type's name, or {"key": <base-type>, "value": <base-type>, "min": 0
// or 1, "max": n or "unlimited"}; <base-type>: a name or {"type": name, constraints}.
Result<ColumnType> parse_column_type(const nlohmann::json &j, std::string_view what);
// get_schema's result. Constraints (enum, ranges, refTable) are not kept.
Result<Schema> parse_schema(const nlohmann::json &j);

} // namespace alopex::ovs::ovsdb
