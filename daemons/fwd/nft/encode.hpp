// SPDX-License-Identifier: GPL-2.0-or-later
// IR -> nf_tables messages in an nftnl_batch. Every message gets NLM_F_ACK and its own
// sequence number, and the Batch remembers what each sequence number stands for (the
// origin of a rule or set, "chain X", "table"), down to the byte offset of each element
// inside a NEWSETELEM, so an extended ack's NLMSGERR_ATTR_OFFS names the element.
// The pure pieces (set shapes, interval expansion, udata) are unit tested.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "alopex/error.hpp"
#include "nft/ir.hpp"
#include "alopex/netlink/requester.hpp"

struct nftnl_batch;
struct nftnl_expr;
struct nlmsghdr;

namespace alopex::fwd::nft {

// Not in Debian 12's headers (kernel >= 6.9): the table survives its owner's exit.
inline constexpr uint32_t table_f_owner = 0x2;    // NFT_TABLE_F_OWNER
inline constexpr uint32_t table_f_persist = 0x4;  // NFT_TABLE_F_PERSIST
inline constexpr uint16_t family_inet = 1;        // NFPROTO_INET

// What the kernel is told about a set: derived from the IR Set alone.
struct SetShape {
    uint32_t flags = 0;        // NFT_SET_*
    uint32_t key_type = 0;     // nft datatype, concatenations folded 6 bits per field
    uint32_t key_len = 0;      // bytes; concatenated fields each padded to 4
    uint32_t data_type = 0;    // NFT_DATA_VERDICT for verdict maps
    uint32_t data_len = 0;
    std::vector<uint8_t> field_lens;   // NFTA_SET_DESC_CONCAT (interval concatenations)
    bool concat = false;
    bool interval = false;
    Bytes udata;               // key byte order (+ comment), the way nft writes it
};
SetShape set_shape(const Set &s);

// One NFTA_LIST_ELEM as sent: a single-field interval element becomes a start element
// and (unless its end is all-ones) an end element at key_end + 1 flagged INTERVAL_END.
struct ElemRecord {
    Bytes key, key_end;
    uint32_t flags = 0;                 // NFT_SET_ELEM_INTERVAL_END
    const Verdict *verdict = nullptr;
    std::optional<uint64_t> timeout_ms;
    Bytes udata;
};
// Appends the records for `e` in a set of `shape`; false when the key lengths are wrong
// (the error names the element's origin).
Result<> element_records(const SetShape &shape, const Element &e, std::vector<ElemRecord> &out);
// Big-endian increment; false when the value wraps (it was all-ones).
bool increment(Bytes &b);
// nft's userdata TLVs (nftnl_udata): a comment attribute of `type`.
Bytes comment_udata(uint8_t type, const std::string &comment);

// Builds an nftnl_expr for one IR expression (owned by the caller), or an error naming
// what is wrong with it.
struct ExprDeleter {
    void operator()(nftnl_expr *e) const noexcept;
};
using ExprPtr = std::unique_ptr<nftnl_expr, ExprDeleter>;
Result<ExprPtr> encode_expr(const Expr &e);

// One transaction being built.
class Batch {
public:
    explicit Batch(uint32_t first_seq);
    ~Batch();
    Batch(const Batch &) = delete;
    Batch &operator=(const Batch &) = delete;

    void table(uint32_t flags);
    void del_rules();                                      // every rule of the table
    void del_set(const std::string &set);
    void del_chain(const std::string &chain);
    void del_obj(const std::string &counter);
    void chain(const Chain &c);
    void set(const Set &s, const SetShape &shape, uint32_t set_id);
    void counter(const std::string &name);
    Result<> rule(const Rule &r);
    // NEWSETELEM / DELSETELEM, as many messages as the elements need.
    Result<> elements(const std::string &set, const SetShape &shape,
                      std::span<const Element *const> elems, bool remove);
    void finish();                                         // BATCH_END

    nftnl_batch *raw() const noexcept { return batch_; }
    // The whole batch, every page of it in order, as sent in one sendmsg().
    std::vector<std::byte> bytes() const;
    uint32_t first_seq() const noexcept { return first_; }
    uint32_t last_seq() const noexcept { return seq_ - 1; }
    size_t acked() const noexcept { return origins_.size(); }
    // Words naming what `ack` refused.
    std::string origin_of(const netlink::Ack &ack) const;
    // "org.alopex.Error.KernelRefused" error listing every refused object.
    Error refused(const std::vector<netlink::Ack> &acks) const;

private:
    struct Origin {
        std::string what;
        std::vector<std::pair<uint32_t, const std::string *>> elems;  // offset -> origin
    };
    nlmsghdr *start(uint16_t type, uint16_t flags, std::string what);
    void done();
    nftnl_batch *batch_ = nullptr;
    uint32_t first_, seq_;
    std::vector<Origin> origins_;   // index: seq - first_ - 1
};

} // namespace alopex::fwd::nft
