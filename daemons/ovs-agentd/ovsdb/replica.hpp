// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's copy of the monitored part of a database, kept by monitor_cond
// (ovsdb-server(7) §4.1.12): the reply's "initial" rows, then each "update2"
// notification's inserts, modifies (diffs, datum.hpp) and deletes. Pure: JSON in,
// rows and the list of what changed out, so the agent reacts to exactly what changed.
//
// The server's updates are checked against its own schema before anything is applied:
// an unknown table, column or UUID, a value of the wrong type, an insert of a row that
// exists or a modify or delete of one that does not is an error, and the whole update
// is refused (the copy is as before; the session resynchronises by reconnecting). Rows
// hold every monitored column: those an insert leaves out (ovsdb-server omits defaults)
// take the column's default.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"
#include "datum.hpp"
#include "schema.hpp"

namespace alopex::ovs::ovsdb {

struct Row {
    std::map<std::string, Datum, std::less<>> columns;
    // The column's value (every monitored column has one).
    const Datum &get(std::string_view column) const;
    bool operator==(const Row &) const = default;
};

struct RowChange {
    enum class Kind : uint8_t { Insert, Modify, Delete };
    std::string table;
    Uuid uuid;
    Kind kind = Kind::Insert;
    Row removed;   // Delete: the row as it was (it is no longer in the copy)
    bool operator==(const RowChange &) const = default;
};

// The tables to monitor and, for each, its columns.
using MonitorSpec = std::map<std::string, std::vector<std::string>, std::less<>>;

class Replica {
public:
    // Each table and column of `spec` must be in `schema` (the error names the first
    // that is not).
    static Result<Replica> create(const Schema &schema, const MonitorSpec &spec);

    // monitor_cond's <monitor-cond-requests>: {"Table": [{"columns": [...]}], ...}.
    nlohmann::json monitor_requests() const;
    // Applies <table-updates2> (monitor_cond's result, or update2's second parameter).
    Result<std::vector<RowChange>> apply(const nlohmann::json &updates);
    // Forgets every row (a new session's initial rows come next).
    void clear();

    // The rows of a monitored table (empty for another).
    const std::map<Uuid, Row> &rows(std::string_view table) const;
    const Row *row(std::string_view table, const Uuid &uuid) const;
    size_t size() const;

private:
    struct Table {
        std::vector<std::pair<std::string, ColumnType>> columns;
        std::map<Uuid, Row> rows;
        const ColumnType *type(std::string_view column) const;
    };
    struct Pending;
    Result<void> decode_row(const std::string &table, Table &t, const Uuid &uuid, const nlohmann::json &update,
                            std::vector<Pending> &out);

    std::map<std::string, Table, std::less<>> tables_;
};

} // namespace alopex::ovs::ovsdb
