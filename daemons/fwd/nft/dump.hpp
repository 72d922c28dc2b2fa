// SPDX-License-Identifier: GPL-2.0-or-later
// What of table `inet alopex` exists in the kernel: its flags and owner, chain names and
// hooks, set definitions, counter objects. Every request names table alopex and family
// inet. The kernel honours that filter for sets and objects; a chain dump it does not
// filter by table (nf_tables_dump_chains), so chains of other inet tables are dropped
// here as they arrive, unread.
//
// Each request goes through the Session's netlink::Requester (only the kernel's datagrams
// are read; nothing waits in recv()) and completes through its callback; a dump the
// kernel flags as interrupted (NLM_F_DUMP_INTR: a commit raced it) is asked again, up to
// three times in all.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "alopex/error.hpp"
#include "alopex/netlink/requester.hpp"
#include "nft/encode.hpp"
#include "nft/session.hpp"

namespace alopex::fwd::nft::detail {

struct ExistingChain {
    std::optional<BaseHook> hook;   // policy not compared (updated in place)
};

struct Existing {
    TableInfo table;
    std::map<std::string, ExistingChain> chains;
    std::map<std::string, SetShape> sets;        // flags, key/data type and length, udata
    std::map<std::string, CounterValue> counters;
};

template <class T> using Then = std::function<void(Result<T>)>;

// `portid`: this session's port (TableInfo::ours compares the table's owner with it).
void get_table(netlink::Requester &r, uint32_t portid, Then<TableInfo> done);
void dump_chains(netlink::Requester &r, Then<std::map<std::string, ExistingChain>> done);
void dump_sets(netlink::Requester &r, Then<std::map<std::string, SetShape>> done);
void dump_counters(netlink::Requester &r, Then<std::map<std::string, CounterValue>> done);
// All of the above, one after the other (chains, sets, counters only when the table exists).
void dump_existing(netlink::Requester &r, uint32_t portid, Then<Existing> done);

// The answers of those dumps, one message each: MNL_CB_OK (a message of another table is
// skipped), MNL_CB_ERROR when it is malformed (what libnftnl cannot parse, or an object
// without its name). Pure: the nf_tables dump fuzzer feeds them arbitrary bytes.
int parse_table(const nlmsghdr *nlh, uint32_t portid, TableInfo &info);
int parse_chain(const nlmsghdr *nlh, std::map<std::string, ExistingChain> &out);
int parse_set(const nlmsghdr *nlh, std::map<std::string, SetShape> &out);
int parse_counter(const nlmsghdr *nlh, std::map<std::string, CounterValue> &out);

// Whether an existing set can be kept (its elements flushed) for `want`.
bool same_definition(const SetShape &have, const SetShape &want);

} // namespace alopex::fwd::nft::detail
