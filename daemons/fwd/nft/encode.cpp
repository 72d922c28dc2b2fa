// SPDX-License-Identifier: GPL-2.0-or-later
// IR -> nf_tables messages (table, chains, sets, elements, counters, rules) in one batch.
#include "nft/encode.hpp"

#include <arpa/inet.h>
#include <endian.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "alopex/ipc/firewall1.hpp"

#include <algorithm>
#include <cstring>

namespace alopex::fwd::nft {

namespace {

constexpr uint32_t round4(uint32_t n) { return (n + 3) & ~3u; }
constexpr uint32_t byteorder_host = 1, byteorder_big = 2;   // nft's enum byteorder
// An element message stays below the 16-bit length of its NFTA_SET_ELEM_LIST_ELEMENTS.
constexpr uint32_t elem_msg_limit = 60000;

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
void rule_free(nftnl_rule *r) { nftnl_rule_free(r); }
void obj_free(nftnl_obj *o) { nftnl_obj_free(o); }
void udata_free(nftnl_udata_buf *u) { nftnl_udata_buf_free(u); }
using TablePtr = std::unique_ptr<nftnl_table, Free<nftnl_table, table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Free<nftnl_chain, chain_free>>;
using SetPtr = std::unique_ptr<nftnl_set, Free<nftnl_set, set_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, Free<nftnl_rule, rule_free>>;
using ObjPtr = std::unique_ptr<nftnl_obj, Free<nftnl_obj, obj_free>>;
using UdataPtr = std::unique_ptr<nftnl_udata_buf, Free<nftnl_udata_buf, udata_free>>;

Bytes udata_bytes(nftnl_udata_buf *u)
{
    auto *p = static_cast<const uint8_t *>(nftnl_udata_buf_data(u));
    return Bytes(p, p + nftnl_udata_buf_len(u));
}

uint32_t key_byteorder(DataType t)
{
    return t == DataType::ifname ? byteorder_host : byteorder_big;
}

} // namespace

Bytes comment_udata(uint8_t type, const std::string &comment)
{
    UdataPtr u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    nftnl_udata_put_strz(u.get(), type, comment.c_str());
    return udata_bytes(u.get());
}

SetShape set_shape(const Set &s)
{
    SetShape sh;
    sh.concat = s.key.size() > 1;
    sh.interval = s.interval;
    for (DataType t : s.key) {
        sh.key_type = (sh.key_type << 6) | static_cast<uint32_t>(t);
        sh.key_len += sh.concat ? round4(field_len(t)) : field_len(t);
        if (sh.concat && s.interval)
            sh.field_lens.push_back(static_cast<uint8_t>(field_len(t)));
    }
    if (s.interval)
        sh.flags |= NFT_SET_INTERVAL | (sh.concat ? NFT_SET_CONCAT : 0);
    if (s.timeout)
        sh.flags |= NFT_SET_TIMEOUT;
    if (s.data) {
        sh.flags |= NFT_SET_MAP;
        if (*s.data == DataType::verdict) {
            sh.data_type = NFT_DATA_VERDICT;
            sh.data_len = 0;
        } else {
            sh.data_type = static_cast<uint32_t>(*s.data);
            sh.data_len = field_len(*s.data);
        }
    }
    UdataPtr u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_KEYBYTEORDER,
                        sh.concat || s.key.empty() ? 0 : key_byteorder(s.key[0]));
    if (s.data)
        nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_DATABYTEORDER,
                            *s.data == DataType::verdict ? 0 : key_byteorder(*s.data));
    if (!s.comment.empty())
        nftnl_udata_put_strz(u.get(), NFTNL_UDATA_SET_COMMENT, s.comment.c_str());
    sh.udata = udata_bytes(u.get());
    return sh;
}

bool increment(Bytes &b)
{
    for (size_t i = b.size(); i-- > 0;)
        if (++b[i] != 0)
            return true;
    return false;
}

namespace {

// A key as the set wants it: exactly key_len bytes. A single narrow field (a port, a
// protocol) may come padded to 4 bytes; the padding is dropped.
Result<Bytes> fit_key(const SetShape &sh, const Bytes &k, const Element &e)
{
    if (k.size() == sh.key_len)
        return k;
    if (!sh.concat && k.size() == round4(sh.key_len) &&
        std::all_of(k.begin() + sh.key_len, k.end(), [](uint8_t b) { return b == 0; }))
        return Bytes(k.begin(), k.begin() + sh.key_len);
    return failf(EINVAL, "{}: key of {} bytes where the set takes {}", e.origin, k.size(),
                 sh.key_len);
}

} // namespace

Result<> element_records(const SetShape &sh, const Element &e, std::vector<ElemRecord> &out)
{
    ALOPEX_TRY(key, fit_key(sh, e.key, e));
    Bytes end;
    if (!e.key_end.empty()) {
        if (!sh.interval)
            return failf(EINVAL, "{}: a range in a set without intervals", e.origin);
        ALOPEX_TRY(k, fit_key(sh, e.key_end, e));
        end = std::move(k);
    }
    ElemRecord start;
    start.verdict = e.verdict ? &*e.verdict : nullptr;
    start.timeout_ms = e.timeout_ms;
    if (!sh.interval) {
        start.key = std::move(key);
    } else if (sh.concat) {
        start.key_end = end.empty() ? key : std::move(end);
        start.key = std::move(key);
    } else {
        // rbtree: [key, end] is sent as a start element and an end element at end + 1
        // (none when end is all-ones: the interval is open to the top, as nft marks it).
        Bytes stop = end.empty() ? key : std::move(end);
        bool closed = increment(stop);
        start.key = std::move(key);
        if (!e.comment.empty() || !closed) {
            UdataPtr u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
            if (!e.comment.empty())
                nftnl_udata_put_strz(u.get(), NFTNL_UDATA_SET_ELEM_COMMENT, e.comment.c_str());
            if (!closed)
                nftnl_udata_put_u32(u.get(), NFTNL_UDATA_SET_ELEM_FLAGS,
                                    NFTNL_SET_ELEM_F_INTERVAL_OPEN);
            start.udata = udata_bytes(u.get());
        }
        out.push_back(std::move(start));
        if (closed) {
            ElemRecord stop_rec;
            stop_rec.key = std::move(stop);
            stop_rec.flags = NFT_SET_ELEM_INTERVAL_END;
            stop_rec.timeout_ms = e.timeout_ms;
            out.push_back(std::move(stop_rec));
        }
        return {};
    }
    if (!e.comment.empty())
        start.udata = comment_udata(NFTNL_UDATA_SET_ELEM_COMMENT, e.comment);
    out.push_back(std::move(start));
    return {};
}

// ---- Batch ----------------------------------------------------------------------------

Batch::Batch(uint32_t first_seq) : first_(first_seq), seq_(first_seq)
{
    long pg = sysconf(_SC_PAGESIZE);
    batch_ = nftnl_batch_alloc(static_cast<uint32_t>(pg * 32), static_cast<uint32_t>(65536 + pg));
    nftnl_batch_begin(static_cast<char *>(nftnl_batch_buffer(batch_)), seq_++);
    nftnl_batch_update(batch_);
}

Batch::~Batch()
{
    if (batch_)
        nftnl_batch_free(batch_);
}

nlmsghdr *Batch::start(uint16_t type, uint16_t flags, std::string what)
{
    origins_.push_back(Origin{std::move(what), {}});
    return nftnl_nlmsg_build_hdr(static_cast<char *>(nftnl_batch_buffer(batch_)), type,
                                 NFPROTO_INET, flags | NLM_F_ACK, seq_++);
}

void Batch::done()
{
    nftnl_batch_update(batch_);
}

void Batch::finish()
{
    nftnl_batch_end(static_cast<char *>(nftnl_batch_buffer(batch_)), seq_++);
    nftnl_batch_update(batch_);
}

void Batch::table(uint32_t flags)
{
    TablePtr t(nftnl_table_alloc());
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table_name);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
    auto *nlh = start(NFT_MSG_NEWTABLE, NLM_F_CREATE, "table");
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    done();
}

void Batch::del_rules()
{
    RulePtr r(nftnl_rule_alloc());
    nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table_name);
    nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    auto *nlh = start(NFT_MSG_DELRULE, 0, "flushing the table's rules");
    nftnl_rule_nlmsg_build_payload(nlh, r.get());
    done();
}

void Batch::del_set(const std::string &set)
{
    SetPtr s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table_name);
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
    auto *nlh = start(NFT_MSG_DELSET, 0, "deleting set " + set);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    done();
}

void Batch::del_chain(const std::string &chain)
{
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table_name);
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.c_str());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    auto *nlh = start(NFT_MSG_DELCHAIN, 0, "deleting chain " + chain);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    done();
}

void Batch::del_obj(const std::string &counter)
{
    ObjPtr o(nftnl_obj_alloc());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table_name);
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, counter.c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, NFPROTO_INET);
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    auto *nlh = start(NFT_MSG_DELOBJ, 0, "deleting counter " + counter);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    done();
}

void Batch::chain(const Chain &ch)
{
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table_name);
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, ch.name.c_str());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    if (ch.hook) {
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, ch.hook->hooknum);
        nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, ch.hook->priority);
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, ch.hook->type.c_str());
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, static_cast<uint32_t>(ch.hook->policy));
    }
    auto *nlh = start(NFT_MSG_NEWCHAIN, NLM_F_CREATE, "chain " + ch.name);
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    done();
}

void Batch::set(const Set &st, const SetShape &sh, uint32_t set_id)
{
    SetPtr s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table_name);
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, st.name.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, sh.flags);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, sh.key_type);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, sh.key_len);
    if (sh.flags & NFT_SET_MAP) {
        nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, sh.data_type);
        nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN, sh.data_len);
    }
    nftnl_set_set_u32(s.get(), NFTNL_SET_ID, set_id);
    if (!sh.field_lens.empty())
        nftnl_set_set_data(s.get(), NFTNL_SET_DESC_CONCAT, sh.field_lens.data(),
                           static_cast<uint32_t>(sh.field_lens.size()));
    nftnl_set_set_data(s.get(), NFTNL_SET_USERDATA, sh.udata.data(),
                       static_cast<uint32_t>(sh.udata.size()));
    auto *nlh = start(NFT_MSG_NEWSET, NLM_F_CREATE, st.origin.empty() ? "set " + st.name : st.origin);
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    done();
}

void Batch::counter(const std::string &name)
{
    ObjPtr o(nftnl_obj_alloc());
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, table_name);
    nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, name.c_str());
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, NFPROTO_INET);
    nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    // No NLM_F_EXCL: an existing counter is left as it is, values included.
    auto *nlh = start(NFT_MSG_NEWOBJ, NLM_F_CREATE, "counter " + name);
    nftnl_obj_nlmsg_build_payload(nlh, o.get());
    done();
}

Result<> Batch::rule(const Rule &ru)
{
    RulePtr r(nftnl_rule_alloc());
    nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table_name);
    nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, ru.chain.c_str());
    nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    for (const Expr &x : ru.exprs) {
        auto e = encode_expr(x);
        if (!e)
            return failf(EINVAL, "{}: {}", ru.origin, e.error().message);
        nftnl_rule_add_expr(r.get(), e->release());
    }
    if (!ru.comment.empty()) {
        Bytes u = comment_udata(NFTNL_UDATA_RULE_COMMENT, ru.comment);
        nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, u.data(), static_cast<uint32_t>(u.size()));
    }
    auto *nlh = start(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                      ru.origin.empty() ? "a rule in chain " + ru.chain : ru.origin);
    nftnl_rule_nlmsg_build_payload(nlh, r.get());
    done();
    return {};
}

namespace {

void put_data(nlmsghdr *nlh, uint16_t type, const Bytes &b)
{
    auto *n = mnl_attr_nest_start(nlh, type);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, b.size(), b.data());
    mnl_attr_nest_end(nlh, n);
}

size_t record_size(const ElemRecord &r)
{
    return 96 + r.key.size() + r.key_end.size() + r.udata.size() +
           (r.verdict ? r.verdict->chain.size() + 32 : 0);
}

} // namespace

Result<> Batch::elements(const std::string &set, const SetShape &sh,
                         std::span<const Element *const> elems, bool remove)
{
    std::vector<ElemRecord> recs;
    std::vector<const std::string *> rec_origin;
    recs.reserve(elems.size() * (sh.interval && !sh.concat ? 2 : 1));
    rec_origin.reserve(recs.capacity());
    for (const Element *e : elems) {
        ALOPEX_TRY_VOID(element_records(sh, *e, recs));
        rec_origin.resize(recs.size(), &e->origin);
    }
    const uint16_t type = remove ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM;
    const std::string what = (remove ? "removing elements of set " : "elements of set ") + set;
    nlmsghdr *nlh = nullptr;
    nlattr *list = nullptr;
    auto close = [&] {
        mnl_attr_nest_end(nlh, list);
        done();
        nlh = nullptr;
    };
    for (size_t i = 0; i < recs.size(); ++i) {
        const ElemRecord &r = recs[i];
        if (nlh && nlh->nlmsg_len + record_size(r) > elem_msg_limit)
            close();
        if (!nlh) {
            nlh = start(type, remove ? 0 : NLM_F_CREATE, what);
            mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table_name);
            mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set.c_str());
            list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        }
        auto *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        origins_.back().elems.emplace_back(
            static_cast<uint32_t>(reinterpret_cast<char *>(el) - reinterpret_cast<char *>(nlh)),
            rec_origin[i]);
        put_data(nlh, NFTA_SET_ELEM_KEY, r.key);
        if (!r.key_end.empty())
            put_data(nlh, NFTA_SET_ELEM_KEY_END, r.key_end);
        if (r.flags)
            mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(r.flags));
        if (!remove) {
            if (r.timeout_ms)
                mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(*r.timeout_ms));
            if (r.verdict) {
                auto *d = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
                auto *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
                mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(static_cast<uint32_t>(r.verdict->code)));
                if (!r.verdict->chain.empty())
                    mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, r.verdict->chain.c_str());
                mnl_attr_nest_end(nlh, v);
                mnl_attr_nest_end(nlh, d);
            }
            if (!r.udata.empty())
                mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, r.udata.size(), r.udata.data());
        }
        mnl_attr_nest_end(nlh, el);
    }
    if (nlh)
        close();
    return {};
}

std::vector<std::byte> Batch::bytes() const
{
    int n = nftnl_batch_iovec_len(batch_);
    std::vector<iovec> iov(static_cast<size_t>(n));
    nftnl_batch_iovec(batch_, iov.data(), static_cast<uint32_t>(n));
    size_t total = 0;
    for (const auto &v : iov)
        total += v.iov_len;
    std::vector<std::byte> out;
    out.reserve(total);
    for (const auto &v : iov) {
        const auto *p = static_cast<const std::byte *>(v.iov_base);
        out.insert(out.end(), p, p + v.iov_len);
    }
    return out;
}

std::string Batch::origin_of(const netlink::Ack &ack) const
{
    if (ack.seq == first_)
        return "batch";
    size_t idx = ack.seq - first_ - 1;
    if (idx >= origins_.size())
        return "end of batch";
    const Origin &o = origins_[idx];
    if (ack.offset && !o.elems.empty()) {
        auto it = std::upper_bound(o.elems.begin(), o.elems.end(), ack.offset,
                                   [](uint32_t off, const auto &p) { return off < p.first; });
        if (it != o.elems.begin() && !(--it)->second->empty())
            return *it->second;
    }
    return o.what;
}

Error Batch::refused(const std::vector<netlink::Ack> &acks) const
{
    // A refused table drags every later message down with it; name the first few.
    constexpr size_t max_listed = 16;
    std::string msg;
    for (const auto &a : acks) {
        if (&a - acks.data() == max_listed) {
            msg += fmt::format("; and {} more", acks.size() - max_listed);
            break;
        }
        if (!msg.empty())
            msg += "; ";
        msg += fmt::format("{}: {}", origin_of(a), std::strerror(a.error));
        if (!a.text.empty())
            msg += fmt::format(" ({})", a.text);
    }
    return Error{acks.empty() ? EIO : acks.front().error, std::move(msg),
                 ipc::firewall1::error::KernelRefused};
}

} // namespace alopex::fwd::nft
