// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft/dump.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include <cstring>
#include <vector>

namespace alopex::fwd::nft::detail {

namespace {

template <class T, void (*F)(T *)> struct Free {
    void operator()(T *p) const noexcept
    {
        if (p)
            F(p);
    }
};
void table_free(nftnl_table *t) { nftnl_table_free(t); }
void chain_free(nftnl_chain *c) { nftnl_chain_free(c); }
void set_free(nftnl_set *s) { nftnl_set_free(s); }
void obj_free(nftnl_obj *o) { nftnl_obj_free(o); }
using TablePtr = std::unique_ptr<nftnl_table, Free<nftnl_table, table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Free<nftnl_chain, chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Free<nftnl_set, set_free>>;
using ObjPtr = std::unique_ptr<nftnl_obj, Free<nftnl_obj, obj_free>>;

// Runs a request up to three times while the dump is interrupted by a commit.
template <class Build, class Cb>
Result<> request(Socket &s, uint32_t &seq, Build build, Cb cb, bool is_dump)
{
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    for (int attempt = 0;; ++attempt) {
        auto *nlh = build(buf.data(), seq++);
        if (!is_dump)
            nlh->nlmsg_flags |= NLM_F_ACK;
        auto r = s.dump(nlh, cb);
        if (r || r.error().code != EINTR || attempt == 2)
            return r;
    }
}

} // namespace

Result<TableInfo> get_table(Socket &s, uint32_t &seq)
{
    TableInfo info;
    auto r = request(
        s, seq,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, 0, sq);
            TablePtr t(nftnl_table_alloc());
            nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table_name);
            nftnl_table_nlmsg_build_payload(nlh, t.get());
            return nlh;
        },
        [&](const nlmsghdr *nlh) { return parse_table(nlh, s.portid(), info); },
        false);
    if (!r && r.error().code == ENOENT)
        return TableInfo{};
    if (!r)
        return std::unexpected(r.error());
    return info;
}

Result<std::map<std::string, ExistingChain>> dump_chains(Socket &s, uint32_t &seq)
{
    std::map<std::string, ExistingChain> out;
    auto r = request(
        s, seq,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, sq);
            ChainPtr c(nftnl_chain_alloc());
            nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table_name);
            nftnl_chain_nlmsg_build_payload(nlh, c.get());
            return nlh;
        },
        [&](const nlmsghdr *nlh) { return parse_chain(nlh, out); },
        true);
    if (!r)
        return std::unexpected(r.error());
    return out;
}

Result<std::map<std::string, SetShape>> dump_sets(Socket &s, uint32_t &seq)
{
    std::map<std::string, SetShape> out;
    auto r = request(
        s, seq,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, sq);
            SetPtr st(nftnl_set_alloc());
            nftnl_set_set_str(st.get(), NFTNL_SET_TABLE, table_name);
            nftnl_set_nlmsg_build_payload(nlh, st.get());
            return nlh;
        },
        [&](const nlmsghdr *nlh) { return parse_set(nlh, out); },
        true);
    if (!r && r.error().code == ENOENT)
        return out;
    if (!r)
        return std::unexpected(r.error());
    return out;
}

Result<std::map<std::string, CounterValue>> dump_counters(Socket &s, uint32_t &seq)
{
    std::map<std::string, CounterValue> out;
    auto r = request(
        s, seq,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_DUMP, sq);
            ObjPtr o(nftnl_obj_alloc());
            nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table_name);
            nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
            nftnl_obj_nlmsg_build_payload(nlh, o.get());
            return nlh;
        },
        [&](const nlmsghdr *nlh) { return parse_counter(nlh, out); },
        true);
    if (!r && r.error().code == ENOENT)
        return out;
    if (!r)
        return std::unexpected(r.error());
    return out;
}

Result<Existing> dump_existing(Socket &s, uint32_t &seq)
{
    Existing ex;
    ALOPEX_TRY(t, get_table(s, seq));
    ex.table = t;
    if (!t.exists)
        return ex;
    ALOPEX_TRY(chains, dump_chains(s, seq));
    ALOPEX_TRY(sets, dump_sets(s, seq));
    ALOPEX_TRY(counters, dump_counters(s, seq));
    ex.chains = std::move(chains);
    ex.sets = std::move(sets);
    ex.counters = std::move(counters);
    return ex;
}

bool same_definition(const SetShape &have, const SetShape &want)
{
    // A verdict map's data length is ours to leave 0; the kernel reports its own (16).
    bool verdict = want.data_type == NFT_DATA_VERDICT;
    return have.flags == want.flags && have.key_type == want.key_type &&
           have.key_len == want.key_len && have.data_type == want.data_type &&
           (verdict || have.data_len == want.data_len) && have.udata == want.udata;
}

} // namespace alopex::fwd::nft::detail
