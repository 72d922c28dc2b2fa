// SPDX-License-Identifier: GPL-2.0-or-later
// The nf_tables side of fwd: one NETLINK_NETFILTER socket held for the daemon's life
// (its port id owns table `inet alopex`, flags owner + persist), and batches built with
// libnftnl: BEGIN, every message with NLM_F_ACK and its own sequence number, END, sent
// whole; every answer is read, all errors are collected and each is mapped back to the
// `origin` of the rule, set or element that caused it. Only table `inet alopex` is ever
// named in a request, dump or not.
//
// Nothing waits for the kernel: requests go through netlink::Requester
// (alopex/netlink/requester.hpp) on the daemon's sd-event loop, and each operation
// completes through its callback, from the loop, never inside the call that started it:
// with the kernel's answer, or ETIMEDOUT when it has not answered within the deadline
// (5 s). Only datagrams the kernel sent are read (another process with the right to send
// to our port id can neither fake an ack, an error nor a dump).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "nft/ir.hpp"

namespace alopex::netlink {
class Requester;
class RequestChannel;
} // namespace alopex::netlink

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

// What the daemon needs of the kernel's nf_tables: full applies, element batches, counters,
// each completing through its callback from the event loop (never inside the call).
// Session is the real one; unit tests of the daemon put a recorder in its place.
class Backend {
public:
    using Done = std::function<void(Result<>)>;
    using CountersDone = std::function<void(Result<std::map<std::string, CounterValue>>)>;
    Backend() = default;
    Backend(const Backend &) = delete;
    Backend &operator=(const Backend &) = delete;
    virtual ~Backend() = default;
    virtual void apply(Ruleset rs, Done done) = 0;
    virtual void apply(std::vector<ElementOp> ops, Done done) = 0;
    virtual void counters(CountersDone done) = 0;
};

// Non-movable: the Requester's callbacks point at it.
class Session final : public Backend {
public:
    // Opens the socket (SOCK_CLOEXEC, large receive buffer) on `event`. Nothing is sent yet.
    static Result<std::unique_ptr<Session>> open(sd_event *event);
    // Over any channel (a test's peer), with any deadline.
    static Result<std::unique_ptr<Session>> create(sd_event *event,
                                                   std::unique_ptr<netlink::RequestChannel> channel,
                                                   std::chrono::microseconds timeout = std::chrono::seconds(5));
    ~Session() override;

    // Makes the kernel's `inet alopex` exactly `rs` in one transaction: the table (created,
    // or taken over when a previous fwd left it orphaned) with owner + persist flags,
    // chains, sets with their elements, named counters (values kept when they exist),
    // rules; whatever of ours is not in `rs` is deleted. Nothing else is touched. On any
    // kernel error the whole batch is void; the Error (bus name
    // org.alopex.Error.KernelRefused) lists every refused object by origin.
    // One apply (full or of elements) at a time: another one before `done` has run fails
    // with EBUSY.
    void apply(Ruleset rs, Done done) override;
    // Element changes only, in one transaction (large lists in several messages), no dump
    // (set definitions are those of the last full apply; read once from the kernel when
    // this session has applied none). Removing an element that is not there refuses the
    // whole batch (ENOENT, naming that element's origin).
    void apply(std::vector<ElementOp> ops, Done done) override;
    // Named counter objects of our table (one dump of objects, not of sets).
    void counters(CountersDone done) override;
    void table(std::function<void(Result<TableInfo>)> done);
    uint32_t portid() const noexcept;
    const ApplyStats &last_stats() const noexcept;

    // Batches committed so far (full and element ones).
    uint64_t commits() const noexcept { return commits_; }

private:
    Session() = default;
    struct Impl;
    struct Full;
    void start_full(std::shared_ptr<Full> f);
    void send_full(std::shared_ptr<Full> f);
    void send_elements(std::shared_ptr<std::vector<ElementOp>> ops, Done done);
    // Completes `done` with `r` from the loop (through the Requester, in order).
    void later(Result<> r, Done done);
    std::unique_ptr<Impl> impl_;
    uint64_t commits_ = 0;
};

} // namespace alopex::fwd::nft
