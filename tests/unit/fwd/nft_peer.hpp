// SPDX-License-Identifier: GPL-2.0-or-later
// nf_tables as a test plays it, for nft::Session and the Manager on it: the Session's
// requests read off the peer's end of a socketpair (tests/unit/netlink_peer.hpp), and
// the kernel's answers to them sent back when the test chooses.
#pragma once

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <chrono>
#include <vector>

#include <catch2/catch.hpp>

#include "netlink_peer.hpp"

namespace alopex::fwd::test {

// One datagram the Session sent: a request or a batch.
struct Request {
    uint16_t type = 0;               // the nf_tables message (NFT_MSG_*); 0 for a batch
    uint32_t seq = 0;
    std::vector<uint32_t> acked;     // seqs of the messages that ask for an ACK
    bool batch = false;              // BEGIN .. END
};

inline Request read_request(const std::vector<std::byte> &d)
{
    Request r;
    const auto *h = reinterpret_cast<const nlmsghdr *>(d.data());
    int left = int(d.size());
    r.seq = h->nlmsg_seq;
    r.batch = h->nlmsg_type == NFNL_MSG_BATCH_BEGIN;
    r.type = r.batch ? 0 : uint16_t(h->nlmsg_type & 0xff);
    while (NLMSG_OK(h, left)) {
        if (h->nlmsg_flags & NLM_F_ACK)
            r.acked.push_back(h->nlmsg_seq);
        h = NLMSG_NEXT(h, left);
    }
    return r;
}

struct NftPeer : alopex::test::PeerLoop {
    std::vector<Request> pending;   // read, not answered yet

    // Everything the Session sent since the last call.
    std::vector<Request> requests()
    {
        std::vector<Request> out;
        for (auto &d : received())
            out.push_back(read_request(d));
        return out;
    }
    // The next request the Session sends (runs the loop until there is one).
    Request next(std::chrono::milliseconds limit = std::chrono::milliseconds(2000))
    {
        run_until(
            [&] {
                for (auto &r : requests())
                    pending.push_back(std::move(r));
                return !pending.empty();
            },
            limit);
        Request r = pending.front();
        pending.erase(pending.begin());
        return r;
    }
    // Acks every message of `r` that asked for it; `refused` gets `error` instead.
    void ack_all(const Request &r, uint32_t refused = 0, int error = 0)
    {
        for (uint32_t seq : r.acked)
            reply(alopex::test::answer(seq, seq == refused ? error : 0));
    }
    // No table alopex yet: the answer to the GETTABLE of a first apply.
    void no_table()
    {
        auto get = next();
        REQUIRE(get.type == NFT_MSG_GETTABLE);
        reply(alopex::test::answer(get.seq, ENOENT));
    }
};

} // namespace alopex::fwd::test
