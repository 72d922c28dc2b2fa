// SPDX-License-Identifier: GPL-2.0-or-later
#include "replica.hpp"

#include <cerrno>

#include <nlohmann/json.hpp>

namespace alopex::ovs::ovsdb {

using json = nlohmann::json;

// One row's update, decoded and checked, not applied yet.
struct Replica::Pending {
    Table *table = nullptr;
    RowChange change;
    Row row;                                          // Insert: the whole row
    std::vector<std::pair<std::string, Datum>> diffs;  // Modify
};

const Datum &Row::get(std::string_view column) const
{
    static const Datum none;
    auto it = columns.find(column);
    return it == columns.end() ? none : it->second;
}

const ColumnType *Replica::Table::type(std::string_view column) const
{
    for (const auto &[name, t] : columns)
        if (name == column)
            return &t;
    return nullptr;
}

Result<Replica> Replica::create(const Schema &schema, const MonitorSpec &spec)
{
    Replica r;
    for (const auto &[table, columns] : spec) {
        const TableSchema *ts = schema.table(table);
        if (!ts)
            return failf(ENOENT, "the {} database has no table {}", schema.name, table);
        Table &t = r.tables_[table];
        for (const auto &c : columns) {
            const ColumnType *ct = ts->column(c);
            if (!ct)
                return failf(ENOENT, "the {} database's table {} has no column {}", schema.name, table, c);
            t.columns.emplace_back(c, *ct);
        }
    }
    return r;
}

json Replica::monitor_requests() const
{
    json out = json::object();
    for (const auto &[name, t] : tables_) {
        json columns = json::array();
        for (const auto &c : t.columns)
            columns.push_back(c.first);
        out[name] = json::array({json{{"columns", std::move(columns)}}});
    }
    return out;
}

Result<void> Replica::decode_row(const std::string &table, Table &t, const Uuid &uuid, const json &update,
                                 std::vector<Pending> &out)
{
    std::string where = fmt::format("{} {}", table, uuid.to_string());
    if (!update.is_object() || update.size() != 1)
        return failf(EBADMSG, "{}: a row update must hold one of initial, insert, modify, delete", where);
    auto only = update.begin();
    const std::string &op = only.key();
    const json &value = only.value();
    bool exists = t.rows.contains(uuid);
    Pending p;
    p.table = &t;
    p.change = {table, uuid, RowChange::Kind::Insert, {}};
    if (op == "delete") {
        if (!exists)
            return failf(EBADMSG, "{}: deleted, but not known", where);
        p.change.kind = RowChange::Kind::Delete;
        out.push_back(std::move(p));
        return {};
    }
    if (!value.is_object())
        return failf(EBADMSG, "{}: {}: not an object of columns", where, json(op).dump(-1, ' ', true).substr(0, 20));
    if (op == "initial" || op == "insert") {
        if (exists)
            return failf(EBADMSG, "{}: inserted, but known already", where);
        for (const auto &[name, type] : t.columns)
            p.row.columns.emplace(name, Datum::default_of(type));
    } else if (op == "modify") {
        if (!exists)
            return failf(EBADMSG, "{}: modified, but not known", where);
        p.change.kind = RowChange::Kind::Modify;
    } else {
        return failf(EBADMSG, "{}: unknown row update {}", where, json(op).dump(-1, ' ', true).substr(0, 20));
    }
    for (const auto &[name, v] : value.items()) {
        const ColumnType *type = t.type(name);
        if (!type)
            return failf(EBADMSG, "{}: column {} is not monitored", where, json(name).dump(-1, ' ', true).substr(0, 40));
        std::string what = fmt::format("{}.{}", table, name);
        if (p.change.kind == RowChange::Kind::Modify) {
            ALOPEX_TRY(diff, decode_datum(v, *type, what, type->is_single()));
            p.diffs.emplace_back(name, std::move(diff));
        } else {
            ALOPEX_TRY(d, decode_datum(v, *type, what));
            p.row.columns[name] = std::move(d);
        }
    }
    out.push_back(std::move(p));
    return {};
}

Result<std::vector<RowChange>> Replica::apply(const json &updates)
{
    if (!updates.is_object())
        return fail(EBADMSG, "table updates: not an object");
    std::vector<Pending> pending;
    for (const auto &[table, rows] : updates.items()) {
        auto t = tables_.find(table);
        if (t == tables_.end())
            return failf(EBADMSG, "an update of table {}, which is not monitored",
                         json(table).dump(-1, ' ', true).substr(0, 40));
        if (!rows.is_object())
            return failf(EBADMSG, "{}: the row updates are not an object", table);
        for (const auto &[id, update] : rows.items()) {
            ALOPEX_TRY(uuid, Uuid::parse(id));
            ALOPEX_TRY_VOID(decode_row(table, t->second, uuid, update, pending));
        }
    }
    std::vector<RowChange> changes;
    changes.reserve(pending.size());
    for (Pending &p : pending) {
        auto &rows = p.table->rows;
        switch (p.change.kind) {
        case RowChange::Kind::Insert: rows.emplace(p.change.uuid, std::move(p.row)); break;
        case RowChange::Kind::Delete: {
            auto it = rows.find(p.change.uuid);
            p.change.removed = std::move(it->second);
            rows.erase(it);
            break;
        }
        case RowChange::Kind::Modify: {
            Row &row = rows.at(p.change.uuid);
            for (auto &[name, diff] : p.diffs)
                row.columns[name].apply_diff(diff, *p.table->type(name));
            break;
        }
        }
        changes.push_back(std::move(p.change));
    }
    return changes;
}

void Replica::clear()
{
    for (auto &[name, t] : tables_)
        t.rows.clear();
}

const std::map<Uuid, Row> &Replica::rows(std::string_view table) const
{
    static const std::map<Uuid, Row> none;
    auto it = tables_.find(table);
    return it == tables_.end() ? none : it->second.rows;
}

const Row *Replica::row(std::string_view table, const Uuid &uuid) const
{
    const auto &r = rows(table);
    auto it = r.find(uuid);
    return it == r.end() ? nullptr : &it->second;
}

size_t Replica::size() const
{
    size_t n = 0;
    for (const auto &[name, t] : tables_)
        n += t.rows.size();
    return n;
}

} // namespace alopex::ovs::ovsdb
