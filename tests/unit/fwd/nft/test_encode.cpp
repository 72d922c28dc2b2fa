// SPDX-License-Identifier: GPL-2.0-or-later
// Pure encoding: set shapes as nft sends them, interval elements, userdata, and the
// mapping of a canned ack stream (read with netlink::parse_ack) back to origins.
#include <catch2/catch.hpp>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>

#include <cstring>

#include "alopex/netlink/requester.hpp"
#include "nft/encode.hpp"

using namespace alopex::fwd::nft;
using alopex::netlink::Ack;

namespace {

Bytes B(std::initializer_list<int> v)
{
    Bytes b;
    for (int x : v)
        b.push_back(static_cast<uint8_t>(x));
    return b;
}

Element elem(Bytes key, Bytes end = {}, std::string comment = {}, std::string origin = {})
{
    Element e;
    e.key = std::move(key);
    e.key_end = std::move(end);
    e.comment = std::move(comment);
    e.origin = std::move(origin);
    return e;
}

Set mkset(std::string name, std::vector<DataType> key, bool interval = false, bool timeout = false,
          std::optional<DataType> data = std::nullopt)
{
    Set s;
    s.name = std::move(name);
    s.key = std::move(key);
    s.interval = interval;
    s.timeout = timeout;
    s.data = data;
    return s;
}

Ack mkack(uint32_t seq, int error)
{
    Ack a;
    a.seq = seq;
    a.error = error;
    return a;
}

} // namespace

TEST_CASE("set shapes match what nft sends", "[nft]")
{
    Set s4 = mkset("s4", {DataType::ipv4_addr}, true);
    auto sh = set_shape(s4);
    CHECK(sh.flags == NFT_SET_INTERVAL);
    CHECK(sh.key_type == 7);
    CHECK(sh.key_len == 4);
    CHECK(sh.field_lens.empty());
    // nft: userdata { 00 04 02 00 00 00 } = key byte order big endian
    CHECK(sh.udata == B({0, 4, 2, 0, 0, 0}));

    Set cc = mkset("cc", {DataType::ipv4_addr, DataType::inet_service}, true, true);
    sh = set_shape(cc);
    CHECK(sh.flags == (NFT_SET_INTERVAL | NFT_SET_CONCAT | NFT_SET_TIMEOUT));   // 0x94
    CHECK(sh.key_type == 0x1cd);
    CHECK(sh.key_len == 8);
    CHECK(sh.field_lens == std::vector<uint8_t>{4, 2});

    Set tt = mkset("tt", {DataType::ipv4_addr, DataType::inet_proto, DataType::inet_service}, false, true);
    sh = set_shape(tt);
    CHECK(sh.flags == NFT_SET_TIMEOUT);
    CHECK(sh.key_type == 0x730d);
    CHECK(sh.key_len == 12);

    Set vm = mkset("vm", {DataType::ifname}, false, false, DataType::verdict);
    sh = set_shape(vm);
    CHECK(sh.flags == NFT_SET_MAP);
    CHECK(sh.key_type == 41);
    CHECK(sh.key_len == 16);
    CHECK(sh.data_type == NFT_DATA_VERDICT);
    CHECK(sh.data_len == 0);
}

TEST_CASE("increment carries and reports wrap", "[nft]")
{
    Bytes b = B({10, 255, 255, 255});
    CHECK(increment(b));
    CHECK(b == B({11, 0, 0, 0}));
    Bytes top = B({255, 255});
    CHECK_FALSE(increment(top));
}

TEST_CASE("single-field interval elements become start and end+1", "[nft]")
{
    Set s4 = mkset("s4", {DataType::ipv4_addr}, true);
    auto sh = set_shape(s4);
    std::vector<ElemRecord> out;
    REQUIRE(element_records(sh, elem(B({10, 0, 0, 0}), B({10, 255, 255, 255})), out));
    REQUIRE(out.size() == 2);
    CHECK(out[0].key == B({10, 0, 0, 0}));
    CHECK(out[0].flags == 0);
    CHECK(out[1].key == B({11, 0, 0, 0}));
    CHECK(out[1].flags == NFT_SET_ELEM_INTERVAL_END);

    out.clear();   // a single address: [a, a] -> a, a+1 (end)
    REQUIRE(element_records(sh, elem(B({192, 168, 1, 1})), out));
    REQUIRE(out.size() == 2);
    CHECK(out[1].key == B({192, 168, 1, 2}));

    out.clear();   // open to the top: no end element, nft's INTERVAL_OPEN udata flag
    REQUIRE(element_records(sh, elem(B({255, 255, 255, 0}), B({255, 255, 255, 255}), "hi"), out));
    REQUIRE(out.size() == 1);
    // nft --debug=netlink: userdata = { \x00\x03hi\x00\x01\x04\x01\x00\x00\x00 }
    CHECK(out[0].udata == B({0, 3, 'h', 'i', 0, 1, 4, 1, 0, 0, 0}));
}

TEST_CASE("concatenated intervals carry key_end; others refuse ranges", "[nft]")
{
    Set cc = mkset("cc", {DataType::ipv4_addr, DataType::inet_service}, true);
    auto sh = set_shape(cc);
    std::vector<ElemRecord> out;
    REQUIRE(element_records(sh, elem(B({10, 0, 0, 0, 0, 20, 0, 0}), B({10, 255, 255, 255, 0, 30, 0, 0})), out));
    REQUIRE(out.size() == 1);
    CHECK(out[0].key_end == B({10, 255, 255, 255, 0, 30, 0, 0}));

    Set plain = mkset("p", {DataType::ipv4_addr});
    out.clear();
    auto r = element_records(set_shape(plain), elem(B({1, 2, 3, 4}), B({1, 2, 3, 5}), "", "zone x"), out);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("zone x") != std::string::npos);

    // A single port may come padded to 4 bytes; the padding goes.
    Set ports = mkset("ports", {DataType::inet_service});
    out.clear();
    REQUIRE(element_records(set_shape(ports), elem(B({0, 80, 0, 0})), out));
    CHECK(out[0].key == B({0, 80}));
    out.clear();
    CHECK_FALSE(element_records(set_shape(ports), elem(B({1, 2, 3})), out));
}

TEST_CASE("comments are nft's userdata TLVs", "[nft]")
{
    // nft: rule comment "ssh" -> userdata = { \x00\x04ssh\x00 }
    CHECK(comment_udata(0, "ssh") == B({0, 4, 's', 's', 'h', 0}));
}

namespace {

// The messages of a finished batch, as the kernel would receive them.
std::vector<Bytes> messages(Batch &b)
{
    int n = nftnl_batch_iovec_len(b.raw());
    std::vector<iovec> iov(static_cast<size_t>(n));
    nftnl_batch_iovec(b.raw(), iov.data(), static_cast<uint32_t>(n));
    Bytes all;
    for (auto &v : iov)
        all.insert(all.end(), static_cast<uint8_t *>(v.iov_base),
                   static_cast<uint8_t *>(v.iov_base) + v.iov_len);
    std::vector<Bytes> out;
    auto *nlh = reinterpret_cast<const nlmsghdr *>(all.data());
    int len = static_cast<int>(all.size());
    while (mnl_nlmsg_ok(nlh, len)) {
        auto *p = reinterpret_cast<const uint8_t *>(nlh);
        out.emplace_back(p, p + nlh->nlmsg_len);
        nlh = mnl_nlmsg_next(nlh, &len);
    }
    return out;
}

// Calls f(attr, offset from `base`) for each attribute in [p, p + len).
template <class F> void each_attr(const uint8_t *base, const uint8_t *p, size_t len, F f)
{
    size_t off = 0;
    while (off + sizeof(nlattr) <= len) {
        auto *a = reinterpret_cast<const nlattr *>(p + off);
        if (a->nla_len < sizeof(nlattr) || off + a->nla_len > len)
            break;
        f(a, static_cast<uint32_t>(p + off - base));
        off += NLA_ALIGN(a->nla_len);
    }
}

// The elements of a NEWSETELEM message: their offsets from the message start.
std::vector<uint32_t> element_offsets(const Bytes &msg)
{
    std::vector<uint32_t> out;
    const uint8_t *base = msg.data();
    size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
    each_attr(base, base + hdr, msg.size() - hdr, [&](const nlattr *a, uint32_t) {
        if ((a->nla_type & NLA_TYPE_MASK) != NFTA_SET_ELEM_LIST_ELEMENTS)
            return;
        auto *p = reinterpret_cast<const uint8_t *>(a) + NLA_HDRLEN;
        each_attr(base, p, a->nla_len - NLA_HDRLEN,
                  [&](const nlattr *, uint32_t off) { out.push_back(off); });
    });
    return out;
}

// An NLMSG_ERROR the way the kernel writes one with NETLINK_CAP_ACK + extack.
void put_ack(Bytes &stream, uint32_t seq, int err, uint32_t offset = 0)
{
    std::vector<char> buf(256, 0);
    auto *nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = NLMSG_ERROR;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_flags = NLM_F_CAPPED | (offset ? NLM_F_ACK_TLVS : 0);
    auto *e = static_cast<nlmsgerr *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    e->error = -err;
    e->msg.nlmsg_seq = seq;
    e->msg.nlmsg_len = 200;
    if (offset)
        mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, offset);
    stream.insert(stream.end(), buf.data(), buf.data() + nlh->nlmsg_len);
}

} // namespace

TEST_CASE("errors map back to rules, elements, chains and the table", "[nft]")
{
    Batch b(100);
    b.table(table_f_owner | table_f_persist);   // seq 101
    Chain zw;
    zw.name = "zone_wan";
    b.chain(zw);      // seq 102
    Set s = mkset("addr4", {DataType::ipv4_addr});
    s.elements = {elem(B({1, 1, 1, 1}), {}, "", "zone wan address 1.1.1.1"),
                  elem(B({2, 2, 2, 2}), {}, "", "zone wan address 2.2.2.2")};
    auto sh = set_shape(s);
    b.set(s, sh, 1);                           // seq 103
    std::vector<const Element *> ep{&s.elements[0], &s.elements[1]};
    REQUIRE(b.elements("addr4", sh, ep, false));   // seq 104
    Rule r;
    r.chain = "input";
    r.exprs = {Verdict{NFT_JUMP, "nowhere"}};
    r.origin = "zone wan rule 3 (ssh)";
    REQUIRE(b.rule(r));                        // seq 105
    b.finish();                                // seq 106
    CHECK(b.first_seq() == 100);
    CHECK(b.last_seq() == 106);
    CHECK(b.acked() == 5);

    auto msgs = messages(b);
    REQUIRE(msgs.size() == 7);
    for (size_t i = 1; i + 1 < msgs.size(); ++i)
        CHECK((reinterpret_cast<const nlmsghdr *>(msgs[i].data())->nlmsg_flags & NLM_F_ACK));
    // Find the second element's nest in the NEWSETELEM message (seq 104).
    auto *nlh = reinterpret_cast<const nlmsghdr *>(msgs[4].data());
    REQUIRE(nlh->nlmsg_seq == 104);
    REQUIRE((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWSETELEM);
    auto offs = element_offsets(msgs[4]);
    REQUIRE(offs.size() == 2);
    uint32_t second = offs[1];
    REQUIRE(second != 0);

    Bytes stream;
    put_ack(stream, 101, 0);
    put_ack(stream, 102, ENOENT);
    put_ack(stream, 104, EEXIST, second + 8);   // an attribute inside the element
    put_ack(stream, 105, ENOENT);
    put_ack(stream, 999, EPERM);                // not ours: ignored
    // Read as the Requester reads answers: each NLMSG_ERROR through parse_ack, those of
    // the batch's sequence numbers kept.
    std::vector<Ack> acks;
    const auto *m = reinterpret_cast<const nlmsghdr *>(stream.data());
    int left = int(stream.size());
    for (; NLMSG_OK(m, left); m = NLMSG_NEXT(m, left)) {
        auto a = alopex::netlink::parse_ack(m, size_t(left));
        REQUIRE(a);
        if (a->seq >= b.first_seq() && a->seq <= b.last_seq())
            acks.push_back(*a);
    }
    REQUIRE(acks.size() == 4);
    std::vector<Ack> errors;
    for (auto &a : acks)
        if (a.error)
            errors.push_back(a);
    auto err = b.refused(errors);
    CHECK(err.bus_name == "org.alopex.Error.KernelRefused");
    CHECK(err.code == ENOENT);
    CHECK(err.message == "chain zone_wan: No such file or directory; "
                         "zone wan address 2.2.2.2: File exists; "
                         "zone wan rule 3 (ssh): No such file or directory");
    // The batch itself (BEGIN) and the table have names too.
    CHECK(b.origin_of(mkack(100, EPERM)) == "batch");
    CHECK(b.origin_of(mkack(101, EPERM)) == "table");
}

TEST_CASE("large element lists split into several messages of one batch", "[nft]")
{
    Set s = mkset("big", {DataType::ipv4_addr}, true);
    for (uint32_t i = 0; i < 20000; ++i)
        s.elements.push_back(elem(B({10, int(i >> 16), int((i >> 8) & 255), int(i & 255)})));
    auto sh = set_shape(s);
    std::vector<const Element *> ep;
    for (auto &e : s.elements)
        ep.push_back(&e);
    Batch b(1);
    REQUIRE(b.elements("big", sh, ep, false));
    b.finish();
    auto msgs = messages(b);
    CHECK(msgs.size() > 3);
    size_t total = 0;
    for (size_t i = 1; i + 1 < msgs.size(); ++i) {
        auto *nlh = reinterpret_cast<const nlmsghdr *>(msgs[i].data());
        CHECK(nlh->nlmsg_len < 65535);
        total += element_offsets(msgs[i]).size();
    }
    CHECK(total == 40000);   // start + end element each
    CHECK(b.acked() == msgs.size() - 2);
}
