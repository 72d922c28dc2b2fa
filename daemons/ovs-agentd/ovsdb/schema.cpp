// SPDX-License-Identifier: GPL-2.0-or-later
#include "schema.hpp"

#include <cerrno>

#include <nlohmann/json.hpp>

namespace alopex::ovs::ovsdb {

using json = nlohmann::json;

namespace {

Result<AtomType> atomic_type(const json &j, std::string_view what)
{
    const json *name = &j;
    if (j.is_object()) {
        auto it = j.find("type");
        if (it == j.end())
            return failf(EBADMSG, "{}: a base type without \"type\"", what);
        name = &*it;
    }
    if (name->is_string()) {
        const auto &s = name->get_ref<const std::string &>();
        for (AtomType t : {AtomType::Integer, AtomType::Real, AtomType::Boolean, AtomType::String, AtomType::Uuid})
            if (s == to_string(t))
                return t;
    }
    return failf(EBADMSG, "{}: {} is not an atomic type", what, name->dump(-1, ' ', true).substr(0, 40));
}

} // namespace

Result<ColumnType> parse_column_type(const json &j, std::string_view what)
{
    ColumnType t;
    if (!j.is_object()) {
        ALOPEX_TRY(key, atomic_type(j, what));
        t.key = key;
        return t;
    }
    auto key = j.find("key");
    if (key == j.end())
        return failf(EBADMSG, "{}: a type without \"key\"", what);
    ALOPEX_TRY(k, atomic_type(*key, what));
    t.key = k;
    if (auto v = j.find("value"); v != j.end()) {
        ALOPEX_TRY(value, atomic_type(*v, what));
        t.value = value;
    }
    if (auto m = j.find("min"); m != j.end()) {
        if (!m->is_number_unsigned() || m->get<uint64_t>() > 1)
            return failf(EBADMSG, "{}: \"min\" must be 0 or 1", what);
        t.min = m->get<unsigned>();
    }
    if (auto m = j.find("max"); m != j.end()) {
        if (m->is_string() && m->get_ref<const std::string &>() == "unlimited")
            t.max = 0;
        else if (m->is_number_unsigned() && m->get<uint64_t>() >= 1 && m->get<uint64_t>() <= UINT32_MAX)
            t.max = m->get<unsigned>();
        else
            return failf(EBADMSG, "{}: \"max\" must be a positive integer or \"unlimited\"", what);
    }
    if (t.max && t.min > t.max)
        return failf(EBADMSG, "{}: \"min\" above \"max\"", what);
    return t;
}

Result<Schema> parse_schema(const json &j)
{
    if (!j.is_object())
        return fail(EBADMSG, "schema: not an object");
    Schema s;
    if (auto n = j.find("name"); n != j.end() && n->is_string())
        s.name = n->get<std::string>();
    else
        return fail(EBADMSG, "schema: no \"name\"");
    if (auto v = j.find("version"); v != j.end() && v->is_string())
        s.version = v->get<std::string>();
    auto tables = j.find("tables");
    if (tables == j.end() || !tables->is_object())
        return fail(EBADMSG, "schema: no \"tables\" object");
    for (const auto &[tname, table] : tables->items()) {
        auto columns = table.is_object() ? table.find("columns") : table.end();
        if (!table.is_object() || columns == table.end() || !columns->is_object())
            return failf(EBADMSG, "schema: table {}: no \"columns\" object", tname);
        TableSchema &ts = s.tables[tname];
        for (const auto &[cname, column] : columns->items()) {
            std::string what = fmt::format("{}.{}", tname, cname);
            auto type = column.is_object() ? column.find("type") : column.end();
            if (type == column.end())
                return failf(EBADMSG, "schema: {}: no \"type\"", what);
            ALOPEX_TRY(t, parse_column_type(*type, what));
            ts.columns.emplace(cname, t);
        }
        ts.columns.emplace("_uuid", ColumnType{AtomType::Uuid, {}, 1, 1});
        ts.columns.emplace("_version", ColumnType{AtomType::Uuid, {}, 1, 1});
    }
    return s;
}

} // namespace alopex::ovs::ovsdb
