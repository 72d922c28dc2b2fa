// SPDX-License-Identifier: GPL-2.0-or-later
// The nf_tables side of fwd: one NETLINK_NETFILTER socket held for the daemon's life
// (its port id owns table `inet alopex`, flags owner + persist), and batches built with
// libnftnl: BEGIN, every message with NLM_F_ACK and its own sequence number, END, one
// sendmsg; then every ACK is read, all errors are collected and each is mapped back to
// the `origin` of the rule, set or element that caused it. Only table `inet alopex` is
// ever named in a request, dump or not.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "alopex/error.hpp"
#include "nft/ir.hpp"

namespace alopex::fwd::nft {

struct CounterValue {
    uint64_t packets = 0, bytes = 0;
};

struct TableInfo {
    bool exists = false;
    uint32_t flags = 0;      // NFT_TABLE_F_*
    uint32_t owner = 0;      // NFTA_TABLE_OWNER port id; 0 when none
    bool ours = false;       // owned by this session's socket
    // False once the kernel refused NFT_TABLE_F_PERSIST (before 6.9): the session then
    // keeps the table without owner and persist flags, so it outlives fwd unprotected.
    bool persist_supported = true;
};

// What the last successful full apply sent (for tests and benchmarks).
struct ApplyStats {
    size_t messages = 0;         // messages in the batch (each acked)
    size_t elements = 0;         // IR elements sent
    size_t rules = 0;
    size_t sets_created = 0;     // NEWSET of a set that did not exist with this definition
    size_t sets_deleted = 0;     // sets unwanted or changed (every old set is replaced)
    size_t chains_deleted = 0;
};

// What the daemon needs of the kernel's nf_tables: full applies, element batches, counters.
// Session is the real one; unit tests of the daemon put a recorder in its place.
class Backend {
public:
    Backend() = default;
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;
    virtual ~Backend() = default;
    virtual Result<> apply(const Ruleset &rs) = 0;
    virtual Result<> apply(std::span<const ElementOp> ops) = 0;
    virtual Result<std::map<std::string, CounterValue>> counters() = 0;
};

class Session final : public Backend {
public:
    // Opens the socket (SOCK_CLOEXEC, large receive buffer). Nothing is sent yet.
    static Result<std::unique_ptr<Session>> open();
    ~Session() override;

    // Makes the kernel's `inet alopex` exactly `rs` in one transaction: the table (created,
    // or taken over when a previous fwd left it orphaned) with owner + persist flags,
    // chains, sets with their elements, named counters (values kept when they exist),
    // rules; whatever of ours is not in `rs` is deleted. Nothing else is touched. On any
    // kernel error the whole batch is void; the Error (bus name
    // org.alopex.Error.KernelRefused) lists every refused object by origin.
    Result<> apply(const Ruleset &rs) override;
    // Element changes only, in one transaction (large lists in several messages), no dump
    // (set definitions are those of the last full apply; read once from the kernel when
    // this session has applied none). Removing an element that is not there refuses the
    // whole batch (ENOENT, naming that element's origin).
    Result<> apply(std::span<const ElementOp> ops) override;
    // Named counter objects of our table (one dump of objects, not of sets).
    Result<std::map<std::string, CounterValue>> counters() override;
    Result<TableInfo> table();
    uint32_t portid() const noexcept;
    const ApplyStats &last_stats() const noexcept;

    // Batches committed so far (full and element ones).
    uint64_t commits() const noexcept { return commits_; }

private:
    Session() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
    uint64_t commits_ = 0;
};

} // namespace alopex::fwd::nft
