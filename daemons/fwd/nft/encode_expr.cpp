// SPDX-License-Identifier: GPL-2.0-or-later
// IR Expr -> nftnl_expr: one nf_tables expression each, attributes as nft sends them.
#include "nft/encode.hpp"

#include <linux/netfilter/nf_tables.h>

#include <libnftnl/expr.h>

namespace alopex::fwd::nft {

void ExprDeleter::operator()(nftnl_expr *e) const noexcept
{
    if (e)
        nftnl_expr_free(e);
}

namespace {

ExprPtr make(const char *name)
{
    return ExprPtr(nftnl_expr_alloc(name));
}

void data(nftnl_expr *e, uint16_t attr, const Bytes &b)
{
    nftnl_expr_set(e, attr, b.data(), static_cast<uint32_t>(b.size()));
}

Result<> check_data(const Bytes &b, const char *what)
{
    if (b.empty() || b.size() > 64)
        return failf(EINVAL, "{}: data of {} bytes", what, b.size());
    return {};
}

// One nf_tables expression per IR alternative.
Result<ExprPtr> encode_one(const Meta &m)
{
    auto e = make("meta");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, m.key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_DREG, m.dreg);
    return e;
}

Result<ExprPtr> encode_one(const Payload &p)
{
    auto e = make("payload");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, p.dreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, p.base);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, p.offset);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, p.len);
    return e;
}

Result<ExprPtr> encode_one(const Cmp &c)
{
    ALOPEX_TRY_VOID(check_data(c.data, "cmp"));
    auto e = make("cmp");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, c.sreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, c.op);
    data(e.get(), NFTNL_EXPR_CMP_DATA, c.data);
    return e;
}

Result<ExprPtr> encode_one(const Range &r)
{
    ALOPEX_TRY_VOID(check_data(r.from, "range"));
    if (r.from.size() != r.to.size())
        return fail(EINVAL, "range: from and to differ in length");
    auto e = make("range");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_RANGE_SREG, r.sreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_RANGE_OP, r.op);
    data(e.get(), NFTNL_EXPR_RANGE_FROM_DATA, r.from);
    data(e.get(), NFTNL_EXPR_RANGE_TO_DATA, r.to);
    return e;
}

Result<ExprPtr> encode_one(const Bitwise &b)
{
    if (b.mask.size() != b.len || b.xor_.size() != b.len || b.len == 0)
        return fail(EINVAL, "bitwise: mask/xor length differs from len");
    auto e = make("bitwise");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_SREG, b.sreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_DREG, b.dreg);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_LEN, b.len);
    data(e.get(), NFTNL_EXPR_BITWISE_MASK, b.mask);
    data(e.get(), NFTNL_EXPR_BITWISE_XOR, b.xor_);
    return e;
}

Result<ExprPtr> encode_one(const Lookup &l)
{
    if (l.set.empty())
        return fail(EINVAL, "lookup: no set name");
    auto e = make("lookup");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SREG, l.sreg);
    nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOOKUP_SET, l.set.c_str());
    if (l.dreg)
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_DREG, *l.dreg);
    if (l.invert)
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    return e;
}

Result<ExprPtr> encode_one(const Ct &c)
{
    auto e = make("ct");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_KEY, c.key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CT_DREG, c.dreg);
    return e;
}

Result<ExprPtr> encode_one(const Counter &)
{
    return make("counter");
}

Result<ExprPtr> encode_one(const ObjRef &o)
{
    if (o.counter.empty())
        return fail(EINVAL, "objref: no counter name");
    auto e = make("objref");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
    nftnl_expr_set_str(e.get(), NFTNL_EXPR_OBJREF_IMM_NAME, o.counter.c_str());
    return e;
}

Result<ExprPtr> encode_one(const Log &l)
{
    auto e = make("log");
    if (!l.prefix.empty())
        nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOG_PREFIX, l.prefix.c_str());
    return e;
}

Result<ExprPtr> encode_one(const Limit &l)
{
    if (l.rate == 0 || l.unit_s == 0)
        return fail(EINVAL, "limit: zero rate or unit");
    auto e = make("limit");
    nftnl_expr_set_u64(e.get(), NFTNL_EXPR_LIMIT_RATE, l.rate);
    nftnl_expr_set_u64(e.get(), NFTNL_EXPR_LIMIT_UNIT, l.unit_s);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LIMIT_BURST, l.burst);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LIMIT_FLAGS, l.invert ? NFT_LIMIT_F_INV : 0);
    return e;
}

Result<ExprPtr> encode_one(const Reject &r)
{
    auto e = make("reject");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_REJECT_TYPE, r.type);
    nftnl_expr_set_u8(e.get(), NFTNL_EXPR_REJECT_CODE, r.code);
    return e;
}

Result<ExprPtr> encode_one(const Nat &n)
{
    auto e = make("nat");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_TYPE, n.type);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_FAMILY, n.family);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_REG_ADDR_MIN, n.addr_min);
    if (n.proto_min)
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_NAT_REG_PROTO_MIN, *n.proto_min);
    return e;
}

Result<ExprPtr> encode_one(const Masq &)
{
    return make("masq");
}

Result<ExprPtr> encode_one(const Verdict &v)
{
    bool needs_chain = v.code == NFT_JUMP || v.code == NFT_GOTO;
    if (needs_chain == v.chain.empty())
        return fail(EINVAL, needs_chain ? "jump/goto without a chain"
                                        : "a chain given to a verdict that takes none");
    auto e = make("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(v.code));
    if (needs_chain)
        nftnl_expr_set_str(e.get(), NFTNL_EXPR_IMM_CHAIN, v.chain.c_str());
    return e;
}

Result<ExprPtr> encode_one(const Immediate &i)
{
    ALOPEX_TRY_VOID(check_data(i.data, "immediate"));
    if (i.dreg == NFT_REG_VERDICT)
        return fail(EINVAL, "immediate to the verdict register: use Verdict");
    auto e = make("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, i.dreg);
    data(e.get(), NFTNL_EXPR_IMM_DATA, i.data);
    return e;
}

} // namespace

Result<ExprPtr> encode_expr(const Expr &expr)
{
    return std::visit([](const auto &x) { return encode_one(x); }, expr);
}

} // namespace alopex::fwd::nft
