// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as one datagram of nf_tables answers to a Session's batch, read as
// netlink::Requester reads them (whole messages by NLMSG_OK, each NLMSG_ERROR through
// netlink::parse_ack), then mapped back to what the batch sent (Batch::refused: the
// sequence number to a message, the extack offset to an element inside it). Never a
// crash or a read past the datagram (an exactly-sized copy: ASan sees it); every errno is
// positive; every refused answer names something.
#include <linux/netlink.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "alopex/netlink/requester.hpp"
#include "nft/encode.hpp"

using namespace alopex::fwd::nft;

namespace {

void check(bool ok)
{
    if (!ok)
        abort();
}

// A batch of seqs 100..105: the table, a set, two elements (one NEWSETELEM), a rule.
struct Sent {
    Set set;
    Rule rule;
    Batch batch{100};
    Sent()
    {
        set.name = "addr4";
        set.key = {DataType::ipv4_addr};
        for (uint8_t i = 1; i <= 2; ++i) {
            Element e;
            e.key = {i, i, i, i};
            e.origin = i == 1 ? "zone wan address 1.1.1.1" : "zone wan address 2.2.2.2";
            set.elements.push_back(e);
        }
        auto shape = set_shape(set);
        batch.table(table_f_owner | table_f_persist);
        batch.set(set, shape, 1);
        std::vector<const Element *> ep{&set.elements[0], &set.elements[1]};
        (void)batch.elements(set.name, shape, ep, false);
        rule.chain = "input";
        rule.exprs = {Verdict{1, ""}};
        rule.origin = "zone wan rule 1";
        (void)batch.rule(rule);
        batch.finish();
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Sent sent;
    // A received datagram starts aligned (new[] is); its length is what it is.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
    if (size)
        std::memcpy(buf.get(), data, size);

    std::vector<alopex::netlink::Ack> errors;
    const auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.get());
    int left = static_cast<int>(size);
    while (NLMSG_OK(nlh, left)) {
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            auto a = alopex::netlink::parse_ack(nlh, static_cast<size_t>(left));
            if (a) {
                check(a->error >= 0 && a->text.size() < size);
                if (a->error && a->seq >= sent.batch.first_seq() && a->seq <= sent.batch.last_seq())
                    errors.push_back(*a);
            }
        }
        nlh = NLMSG_NEXT(nlh, left);
    }
    for (const auto &a : errors)
        check(!sent.batch.origin_of(a).empty());
    if (!errors.empty()) {
        auto e = sent.batch.refused(errors);
        check(e.code > 0 && !e.message.empty());
    }
    return 0;
}
