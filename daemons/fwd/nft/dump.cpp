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
#include <memory>
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

// One request message built by `build` (into a buffer of MNL_SOCKET_BUFFER_SIZE), copied
// out whole.
using Build = std::function<nlmsghdr *(char *buf, uint32_t seq)>;

std::vector<std::byte> message(const Build &build, uint32_t seq, bool is_dump)
{
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr *nlh = build(buf.data(), seq);
    if (!is_dump)
        nlh->nlmsg_flags |= NLM_F_ACK;   // a GET answers its object, then the ack
    const auto *p = reinterpret_cast<const std::byte *>(nlh);
    return {p, p + nlh->nlmsg_len};
}

// Sends the request, parses every answer into a fresh T with `parse`, and asks again
// (at most three times in all) while the kernel says the dump was interrupted. A
// malformed answer fails the request (EBADMSG) once the kernel has finished it.
template <class T>
void collect(netlink::Requester &r, Build build, bool is_dump,
             std::function<int(const nlmsghdr *, T &)> parse, Then<T> done, int attempt = 0)
{
    struct Acc {
        T value{};
        bool bad = false;
    };
    auto acc = std::make_shared<Acc>();
    auto req = message(build, r.reserve(), is_dump);
    r.dump(
        std::move(req),
        [acc, parse](const nlmsghdr *nlh) {
            if (!acc->bad && parse(nlh, acc->value) != MNL_CB_OK)
                acc->bad = true;
        },
        [&r, build = std::move(build), is_dump, parse, done = std::move(done), acc, attempt](Result<> res) mutable {
            if (!res && res.error().code == EINTR && attempt < 2)
                return collect<T>(r, std::move(build), is_dump, std::move(parse), std::move(done), attempt + 1);
            if (!res)
                return done(std::unexpected(res.error()));
            if (acc->bad)
                return done(fail(EBADMSG, "nf_tables: a malformed answer to a dump"));
            done(std::move(acc->value));
        });
}

// ENOENT (no table alopex): nothing of it exists.
template <class T> Then<T> none_if_absent(Then<T> done)
{
    return [done = std::move(done)](Result<T> r) {
        if (!r && r.error().code == ENOENT)
            return done(T{});
        done(std::move(r));
    };
}

} // namespace

void get_table(netlink::Requester &r, uint32_t portid, Then<TableInfo> done)
{
    collect<TableInfo>(
        r,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, 0, sq);
            TablePtr t(nftnl_table_alloc());
            nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table_name);
            nftnl_table_nlmsg_build_payload(nlh, t.get());
            return nlh;
        },
        false, [portid](const nlmsghdr *nlh, TableInfo &info) { return parse_table(nlh, portid, info); },
        none_if_absent(std::move(done)));
}

void dump_chains(netlink::Requester &r, Then<std::map<std::string, ExistingChain>> done)
{
    collect<std::map<std::string, ExistingChain>>(
        r,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, sq);
            ChainPtr c(nftnl_chain_alloc());
            nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table_name);
            nftnl_chain_nlmsg_build_payload(nlh, c.get());
            return nlh;
        },
        true, parse_chain, std::move(done));
}

void dump_sets(netlink::Requester &r, Then<std::map<std::string, SetShape>> done)
{
    collect<std::map<std::string, SetShape>>(
        r,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, sq);
            SetPtr st(nftnl_set_alloc());
            nftnl_set_set_str(st.get(), NFTNL_SET_TABLE, table_name);
            nftnl_set_nlmsg_build_payload(nlh, st.get());
            return nlh;
        },
        true, parse_set, none_if_absent(std::move(done)));
}

void dump_counters(netlink::Requester &r, Then<std::map<std::string, CounterValue>> done)
{
    collect<std::map<std::string, CounterValue>>(
        r,
        [](char *buf, uint32_t sq) {
            auto *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_DUMP, sq);
            ObjPtr o(nftnl_obj_alloc());
            nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table_name);
            nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
            nftnl_obj_nlmsg_build_payload(nlh, o.get());
            return nlh;
        },
        true, parse_counter, none_if_absent(std::move(done)));
}

void dump_existing(netlink::Requester &r, uint32_t portid, Then<Existing> done)
{
    auto ex = std::make_shared<Existing>();
    get_table(r, portid, [&r, ex, done = std::move(done)](Result<TableInfo> t) mutable {
        if (!t)
            return done(std::unexpected(t.error()));
        ex->table = *t;
        if (!t->exists)
            return done(std::move(*ex));
        dump_chains(r, [&r, ex, done = std::move(done)](auto chains) mutable {
            if (!chains)
                return done(std::unexpected(chains.error()));
            ex->chains = std::move(*chains);
            dump_sets(r, [&r, ex, done = std::move(done)](auto sets) mutable {
                if (!sets)
                    return done(std::unexpected(sets.error()));
                ex->sets = std::move(*sets);
                dump_counters(r, [ex, done = std::move(done)](auto counters) mutable {
                    if (!counters)
                        return done(std::unexpected(counters.error()));
                    ex->counters = std::move(*counters);
                    done(std::move(*ex));
                });
            });
        });
    });
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
