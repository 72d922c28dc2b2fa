// SPDX-License-Identifier: GPL-2.0-or-later
// One OVSDB session on one connection, pure: bytes in and out, time given by the caller
// (CLOCK_MONOTONIC µs), no sockets. On connected() it asks for the schema
// (get_schema), checks the monitored tables and columns against it, and asks for
// monitor_cond; the reply's initial rows fill the replica and the session is Live
// (synced). From then on every update2 is applied as it comes (changed() says which rows),
// transactions run with their replies matched by id, and the server's echo requests are
// answered.
//
// Keepalive: after `probe_interval` without a byte from the server the session sends an
// echo; if still nothing came after another interval, the server is taken as gone (a
// hung ovsdb-server as much as a closed socket). Any protocol error (a message that does
// not parse, an update that does not apply, an unexpected reply) fails the session too:
// lost() is called once, with why, and every transaction still waiting is completed with
// ECONNRESET. The owner closes the connection and, later, connects again: the next
// session starts from an empty replica and a full resync.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"
#include "json_stream.hpp"
#include "replica.hpp"

namespace alopex::ovs::ovsdb {

enum class SessionState : uint8_t { Idle, SchemaWait, MonitorWait, Live, Failed };
std::string_view to_string(SessionState s);

struct SessionConfig {
    std::string database = "Open_vSwitch";
    MonitorSpec monitor;
    uint64_t probe_interval = 5'000'000;   // µs; 0: no keepalive
};

// A transaction's outcome: its per-operation results (RFC 7047 §5.2), or the first error
// among them (or the commit's, after them). A failed "wait" is EAGAIN ("timed out"):
// the state it assumed changed, the caller may build the transaction again.
using TransactDone = std::function<void(Result<nlohmann::json> results)>;

class Session {
public:
    struct Callbacks {
        std::function<void(std::string_view bytes)> send;
        std::function<void()> synced;                                      // the initial rows are in
        std::function<void(const std::vector<RowChange> &)> changed;      // after an update2
        std::function<void(const std::string &why)> lost;                 // failed: close the connection
    };
    Session(SessionConfig config, Callbacks callbacks);
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    // The connection is up: the session starts (again, from an empty replica).
    void connected(uint64_t now);
    // Bytes the server sent.
    void input(std::span<const char> bytes, uint64_t now);
    // The connection went (closed by the server, an error): the session ends.
    void disconnected(const std::string &why);
    // Sends the keepalive, or gives up on a silent server; next_deadline() says when to
    // call it again (UINT64_MAX: nothing pending).
    void advance(uint64_t now);
    uint64_t next_deadline() const noexcept;

    // Runs `operations` (a JSON array of RFC 7047 operations) on the database; `done` is
    // called once, with the results or an error. ENOTCONN while not Live.
    void transact(const nlohmann::json &operations, TransactDone done);

    SessionState state() const noexcept { return state_; }
    const Replica *replica() const noexcept { return replica_.get(); }
    const Schema *schema() const noexcept { return schema_.get(); }
    size_t pending() const noexcept { return pending_.size(); }

private:
    void send_request(std::string_view method, const nlohmann::json &params,
                      std::function<void(Result<nlohmann::json>)> reply);
    void handle(std::string_view text);
    void on_schema(Result<nlohmann::json> r);
    void on_monitor(Result<nlohmann::json> r);
    void fail_session(const std::string &why);
    bool end(const std::string &why);
    void set_state(SessionState s) { state_ = s; }

    SessionConfig config_;
    Callbacks cb_;
    SessionState state_ = SessionState::Idle;
    JsonSplitter splitter_;
    std::unique_ptr<Schema> schema_;
    std::unique_ptr<Replica> replica_;
    std::map<uint64_t, std::function<void(Result<nlohmann::json>)>> pending_;
    uint64_t next_id_ = 1;
    uint64_t heard_at_ = 0;      // the last byte from the server
    bool probing_ = false;       // an echo was sent and nothing heard since
};

} // namespace alopex::ovs::ovsdb
