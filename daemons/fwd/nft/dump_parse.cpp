// SPDX-License-Identifier: GPL-2.0-or-later
// The answers of fwd's dumps (table, chains, sets, counter objects), parsed with libmnl
// alone. Not with libnftnl's *_nlmsg_parse: on an attribute of an unexpected size those
// call exit() ("nf_tables kernel ABI is broken"), and they copy name attributes without
// checking for their terminating NUL. Here every attribute is validated and a malformed
// message is MNL_CB_ERROR, an error of the dump.
#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>

#include <cstring>

#include "nft/dump.hpp"

namespace alopex::fwd::nft::detail {

namespace {

constexpr uint16_t message(uint8_t msg)
{
    return uint16_t((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

// The attributes of one level, by type (a later duplicate wins, as with libmnl tables).
template <size_t N> struct Attrs {
    const nlattr *at[N + 1] = {};
    const nlattr *operator[](size_t t) const { return t <= N ? at[t] : nullptr; }
};

template <size_t N> int collect(const nlattr *a, void *data)
{
    auto *t = static_cast<Attrs<N> *>(data);
    const uint16_t type = mnl_attr_get_type(a);
    if (type <= N)
        t->at[type] = a;
    return MNL_CB_OK;
}

// The top-level attributes of an nf_tables message of type `msg`; false when it is of
// another type or malformed.
template <size_t N> bool top(const nlmsghdr *nlh, uint8_t msg, Attrs<N> &out)
{
    if (nlh->nlmsg_type != message(msg) || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg)))
        return false;
    const size_t start = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
    if (nlh->nlmsg_len <= start)
        return true;   // no attributes
    return mnl_attr_parse_payload(reinterpret_cast<const uint8_t *>(nlh) + start,
                                  nlh->nlmsg_len - start, collect<N>, &out) >= MNL_CB_STOP;
}

template <size_t N> bool nested(const nlattr *a, Attrs<N> &out)
{
    return mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0 && mnl_attr_parse_nested(a, collect<N>, &out) >= MNL_CB_STOP;
}

// A NUL-terminated, non-empty string; nullptr when absent or malformed.
const char *str(const nlattr *a)
{
    if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
        return nullptr;
    const char *s = mnl_attr_get_str(a);
    return *s ? s : nullptr;
}

// A big-endian u32: nullopt-like through `ok` when present but malformed.
bool u32(const nlattr *a, uint32_t &out)
{
    if (!a)
        return true;
    if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
        return false;
    out = be32toh(mnl_attr_get_u32(a));
    return true;
}

bool u64(const nlattr *a, uint64_t &out)
{
    if (!a)
        return true;
    if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
        return false;
    out = be64toh(mnl_attr_get_u64(a));
    return true;
}

bool ours(const char *table)
{
    return table && std::strcmp(table, table_name) == 0;
}

// A message of type `msg` naming an object (attributes `table_attr`, `name_attr`):
// MNL_CB_OK with `name` set when the object is in table alopex, with `name` null when it
// is in another table; MNL_CB_ERROR when malformed.
template <size_t N>
int object(const nlmsghdr *nlh, uint8_t msg, uint16_t table_attr, uint16_t name_attr, Attrs<N> &a,
           const char *&name)
{
    name = nullptr;
    if (!top(nlh, msg, a))
        return MNL_CB_ERROR;
    const char *table = str(a[table_attr]);
    const char *n = str(a[name_attr]);
    if (!table || !n)
        return MNL_CB_ERROR;
    if (ours(table))
        name = n;
    return MNL_CB_OK;
}

} // namespace

int parse_table(const nlmsghdr *nlh, uint32_t portid, TableInfo &info)
{
    Attrs<NFTA_TABLE_OWNER> a;
    if (!top(nlh, NFT_MSG_NEWTABLE, a))
        return MNL_CB_ERROR;
    const char *name = str(a[NFTA_TABLE_NAME]);
    if (!name)
        return MNL_CB_ERROR;
    if (!ours(name))
        return MNL_CB_OK;
    uint32_t flags = 0, owner = 0;
    if (!u32(a[NFTA_TABLE_FLAGS], flags) || !u32(a[NFTA_TABLE_OWNER], owner))
        return MNL_CB_ERROR;
    info.exists = true;
    info.flags = flags;
    info.owner = owner;
    info.ours = (flags & table_f_owner) && owner == portid;
    return MNL_CB_OK;
}

int parse_chain(const nlmsghdr *nlh, std::map<std::string, ExistingChain> &out)
{
    Attrs<NFTA_CHAIN_TYPE> a;
    const char *name;
    if (int r = object(nlh, NFT_MSG_NEWCHAIN, NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, a, name); r != MNL_CB_OK || !name)
        return r;
    ExistingChain ch;
    if (a[NFTA_CHAIN_HOOK]) {
        Attrs<NFTA_HOOK_PRIORITY> h;
        if (!nested(a[NFTA_CHAIN_HOOK], h))
            return MNL_CB_ERROR;
        if (h[NFTA_HOOK_HOOKNUM]) {
            BaseHook hook{};
            uint32_t prio = 0, policy = 0;
            if (!u32(h[NFTA_HOOK_HOOKNUM], hook.hooknum) || !u32(h[NFTA_HOOK_PRIORITY], prio) ||
                !u32(a[NFTA_CHAIN_POLICY], policy))
                return MNL_CB_ERROR;
            hook.priority = static_cast<int32_t>(prio);
            hook.policy = static_cast<int32_t>(policy);
            if (a[NFTA_CHAIN_TYPE]) {
                const char *type = str(a[NFTA_CHAIN_TYPE]);
                if (!type)
                    return MNL_CB_ERROR;
                hook.type = type;
            }
            ch.hook = std::move(hook);
        }
    }
    out.emplace(name, std::move(ch));
    return MNL_CB_OK;
}

int parse_set(const nlmsghdr *nlh, std::map<std::string, SetShape> &out)
{
    Attrs<NFTA_SET_USERDATA> a;
    const char *name;
    if (int r = object(nlh, NFT_MSG_NEWSET, NFTA_SET_TABLE, NFTA_SET_NAME, a, name); r != MNL_CB_OK || !name)
        return r;
    SetShape sh;
    if (!u32(a[NFTA_SET_FLAGS], sh.flags) || !u32(a[NFTA_SET_KEY_TYPE], sh.key_type) ||
        !u32(a[NFTA_SET_KEY_LEN], sh.key_len) || !u32(a[NFTA_SET_DATA_TYPE], sh.data_type))
        return MNL_CB_ERROR;
    if (a[NFTA_SET_DATA_TYPE] && !u32(a[NFTA_SET_DATA_LEN], sh.data_len))
        return MNL_CB_ERROR;
    sh.interval = sh.flags & NFT_SET_INTERVAL;
    sh.concat = (sh.key_type >> 6) != 0;
    if (const nlattr *u = a[NFTA_SET_USERDATA]) {
        auto *p = static_cast<const uint8_t *>(mnl_attr_get_payload(u));
        sh.udata.assign(p, p + mnl_attr_get_payload_len(u));
    }
    out.emplace(name, std::move(sh));
    return MNL_CB_OK;
}

int parse_counter(const nlmsghdr *nlh, std::map<std::string, CounterValue> &out)
{
    Attrs<NFTA_OBJ_DATA> a;
    const char *name;
    if (int r = object(nlh, NFT_MSG_NEWOBJ, NFTA_OBJ_TABLE, NFTA_OBJ_NAME, a, name); r != MNL_CB_OK)
        return r;
    uint32_t type = 0;
    if (!a[NFTA_OBJ_TYPE] || !u32(a[NFTA_OBJ_TYPE], type))
        return MNL_CB_ERROR;
    if (!name || type != NFT_OBJECT_COUNTER)
        return MNL_CB_OK;
    CounterValue v;
    if (a[NFTA_OBJ_DATA]) {
        Attrs<NFTA_COUNTER_PACKETS> d;
        if (!nested(a[NFTA_OBJ_DATA], d) || !u64(d[NFTA_COUNTER_BYTES], v.bytes) ||
            !u64(d[NFTA_COUNTER_PACKETS], v.packets))
            return MNL_CB_ERROR;
    }
    out.emplace(name, v);
    return MNL_CB_OK;
}

} // namespace alopex::fwd::nft::detail
