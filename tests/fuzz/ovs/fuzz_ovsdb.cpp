// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-ovsdb: bytes from an ovsdb-server, as the agent reads them: split into messages,
// each checked, and monitor_cond replies and update2 notifications applied to a copy of
// Open_vSwitch/Bridge/Port/Interface (the real schema's types for those columns).
// Whatever comes: no crash, an update applied whole or not at all, and after each one
// every row holds every monitored column with a value its type allows (encoded and
// decoded again, it is the same).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_stream.hpp"
#include "replica.hpp"
#include "rpc.hpp"

using namespace alopex::ovs::ovsdb;
using json = nlohmann::json;

namespace {

const char *schema_text = R"({"name":"Open_vSwitch","version":"8.3.1","tables":{
 "Open_vSwitch":{"columns":{"bridges":{"type":{"max":"unlimited","min":0,"key":{"type":"uuid","refTable":"Bridge"}}},
   "next_cfg":{"type":"integer"},"cur_cfg":{"type":"integer"},"ovs_version":{"type":{"min":0,"key":"string"}}}},
 "Bridge":{"columns":{"name":{"type":"string"},"ports":{"type":{"max":"unlimited","min":0,"key":{"type":"uuid"}}},
   "datapath_type":{"type":"string"},"external_ids":{"type":{"max":"unlimited","min":0,"key":"string","value":"string"}}}},
 "Port":{"columns":{"name":{"type":"string"},"interfaces":{"type":{"max":"unlimited","key":{"type":"uuid"}}},
   "tag":{"type":{"min":0,"key":{"minInteger":0,"maxInteger":4095,"type":"integer"}}},
   "trunks":{"type":{"max":4096,"min":0,"key":{"type":"integer"}}},
   "external_ids":{"type":{"max":"unlimited","min":0,"key":"string","value":"string"}}}},
 "Interface":{"columns":{"name":{"type":"string"},"type":{"type":"string"},"ofport":{"type":{"min":0,"key":"integer"}},
   "error":{"type":{"min":0,"key":"string"}},
   "external_ids":{"type":{"max":"unlimited","min":0,"key":"string","value":"string"}}}}}})";

const MonitorSpec spec = {{"Open_vSwitch", {"bridges", "next_cfg", "cur_cfg", "ovs_version"}},
                          {"Bridge", {"name", "ports", "datapath_type", "external_ids"}},
                          {"Port", {"name", "interfaces", "tag", "trunks", "external_ids"}},
                          {"Interface", {"name", "type", "ofport", "error", "external_ids"}}};

void check(const Replica &r, const Schema &schema)
{
    for (const auto &[table, columns] : spec)
        for (const auto &[uuid, row] : r.rows(table)) {
            if (row.columns.size() != columns.size())
                std::abort();
            for (const auto &c : columns) {
                const ColumnType &t = *schema.table(table)->column(c);
                auto again = decode_datum(encode_datum(row.get(c), t), t, c, false);
                if (!again || !(*again == row.get(c)))
                    std::abort();
            }
        }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const Schema schema = *parse_schema(json::parse(schema_text));
    Replica r = *Replica::create(schema, spec);
    JsonSplitter splitter(1 << 20);
    std::vector<std::string> texts;
    (void)splitter.feed(std::span(reinterpret_cast<const char *>(data), size), texts);
    for (const auto &t : texts) {
        auto m = parse_message(t);
        if (!m)
            continue;
        const json *updates = nullptr;
        if (m->kind == Message::Kind::Reply)
            updates = &m->result;
        else if (m->kind == Message::Kind::Notification && m->method == "update2" && m->params.size() == 2)
            updates = &m->params[1];
        if (!updates)
            continue;
        size_t before = r.size();
        auto changes = r.apply(*updates);
        if (!changes && r.size() != before)
            std::abort();
        check(r, schema);
    }
    return 0;
}
