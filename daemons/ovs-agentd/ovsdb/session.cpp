// SPDX-License-Identifier: GPL-2.0-or-later
#include "session.hpp"

#include <cerrno>

#include "rpc.hpp"

namespace alopex::ovs::ovsdb {

using json = nlohmann::json;

namespace {

// The first error among a transaction's results (RFC 7047 §5.2: an operation's error
// object, or one more element after the operations when the commit failed).
Result<json> transact_outcome(json result, size_t operations)
{
    if (!result.is_array())
        return fail(EBADMSG, "transact: the result is not an array");
    for (size_t i = 0; i < result.size(); ++i) {
        const json &r = result[i];
        if (!r.is_object() || !r.contains("error"))
            continue;
        std::string what = i < operations ? fmt::format("operation {}", i + 1) : std::string("commit");
        return failf(r["error"] == "timed out" ? EAGAIN : EIO, "{}: {}", what, error_text(r));
    }
    if (result.size() < operations)
        return failf(EBADMSG, "transact: {} results for {} operations", result.size(), operations);
    return result;
}

} // namespace

std::string_view to_string(SessionState s)
{
    static constexpr std::string_view names[] = {"idle", "schema-wait", "monitor-wait", "live", "failed"};
    static_assert(std::size(names) == static_cast<size_t>(SessionState::Failed) + 1);
    return names[static_cast<size_t>(s)];
}

Session::Session(SessionConfig config, Callbacks callbacks) : config_(std::move(config)), cb_(std::move(callbacks)) {}

Session::~Session() = default;

void Session::connected(uint64_t now)
{
    splitter_.reset();
    schema_.reset();
    replica_.reset();
    heard_at_ = now;
    probing_ = false;
    set_state(SessionState::SchemaWait);
    send_request("get_schema", json::array({config_.database}), [this](Result<json> r) { on_schema(std::move(r)); });
}

void Session::on_schema(Result<json> r)
{
    if (!r)
        return fail_session(fmt::format("get_schema: {}", r.error().message));
    auto schema = parse_schema(*r);
    if (!schema)
        return fail_session(schema.error().message);
    auto replica = Replica::create(*schema, config_.monitor);
    if (!replica)
        return fail_session(replica.error().message);
    schema_ = std::make_unique<Schema>(std::move(*schema));
    replica_ = std::make_unique<Replica>(std::move(*replica));
    set_state(SessionState::MonitorWait);
    send_request("monitor_cond", json::array({config_.database, "alopex", replica_->monitor_requests()}),
                 [this](Result<json> m) { on_monitor(std::move(m)); });
}

void Session::on_monitor(Result<json> r)
{
    if (!r)
        return fail_session(fmt::format("monitor_cond: {}", r.error().message));
    auto initial = replica_->apply(*r);
    if (!initial)
        return fail_session(fmt::format("monitor_cond: {}", initial.error().message));
    set_state(SessionState::Live);
    if (cb_.synced)
        cb_.synced();
}

void Session::input(std::span<const char> bytes, uint64_t now)
{
    if (state_ == SessionState::Idle || state_ == SessionState::Failed)
        return;
    heard_at_ = now;
    probing_ = false;
    std::vector<std::string> texts;
    auto fed = splitter_.feed(bytes, texts);
    for (const auto &t : texts) {
        handle(t);
        if (state_ == SessionState::Failed)
            return;
    }
    if (!fed)
        fail_session(fed.error().message);
}

void Session::handle(std::string_view text)
{
    auto m = parse_message(text);
    if (!m)
        return fail_session(fmt::format("a bad message: {}", m.error().message));
    switch (m->kind) {
    case Message::Kind::Request:
        if (m->method == "echo")
            cb_.send(reply_text(m->params, m->id));
        else
            cb_.send(json{{"id", m->id}, {"result", nullptr}, {"error", "unknown method"}}.dump());
        return;
    case Message::Kind::Notification:
        if (m->method != "update2")
            return;   // "locked", "stolen": no locks are taken
        if (state_ != SessionState::Live || m->params.size() != 2)
            return fail_session("an update2 the session did not expect");
        if (auto changes = replica_->apply(m->params[1]); !changes)
            return fail_session(fmt::format("update2: {}", changes.error().message));
        else if (!changes->empty() && cb_.changed)
            cb_.changed(*changes);
        return;
    case Message::Kind::Reply:
    case Message::Kind::Error: break;
    }
    auto it = m->id.is_number_unsigned() ? pending_.find(m->id.get<uint64_t>()) : pending_.end();
    if (it == pending_.end())
        return fail_session(fmt::format("a reply to no request (id {})", m->id.dump(-1, ' ', true).substr(0, 40)));
    auto reply = std::move(it->second);
    pending_.erase(it);
    if (m->kind == Message::Kind::Error)
        reply(fail(EIO, m->error_text()));
    else
        reply(std::move(m->result));
}

void Session::send_request(std::string_view method, const json &params, std::function<void(Result<json>)> reply)
{
    uint64_t id = next_id_++;
    pending_.emplace(id, std::move(reply));
    cb_.send(request_text(method, params, id));
}

void Session::transact(const json &operations, TransactDone done)
{
    if (state_ != SessionState::Live) {
        done(failf(ENOTCONN, "not connected to ovsdb-server ({})", to_string(state_)));
        return;
    }
    json params = json::array({config_.database});
    for (const auto &op : operations)
        params.push_back(op);
    size_t n = operations.size();
    send_request("transact", params, [n, done = std::move(done)](Result<json> r) {
        if (!r)
            done(std::unexpected(r.error()));
        else
            done(transact_outcome(std::move(*r), n));
    });
}

void Session::fail_session(const std::string &why)
{
    if (end(why) && cb_.lost)
        cb_.lost(why);
}

// Completes every transaction still waiting; false when the session had ended already.
bool Session::end(const std::string &why)
{
    if (state_ == SessionState::Failed || state_ == SessionState::Idle)
        return false;
    set_state(SessionState::Failed);
    auto waiting = std::move(pending_);
    pending_.clear();
    for (auto &[id, reply] : waiting)
        reply(failf(ECONNRESET, "the OVSDB session ended: {}", why));
    return true;
}

void Session::disconnected(const std::string &why)
{
    end(why);
    set_state(SessionState::Idle);
}

void Session::advance(uint64_t now)
{
    uint64_t due = next_deadline();
    if (due == UINT64_MAX || now < due)
        return;
    if (probing_)
        return fail_session(fmt::format("ovsdb-server did not answer for {:g} s",
                                        static_cast<double>(2 * config_.probe_interval) / 1e6));
    probing_ = true;
    heard_at_ = now;   // the probe's own interval starts now
    send_request("echo", json::array(), [](Result<json>) {});
}

uint64_t Session::next_deadline() const noexcept
{
    bool active = state_ == SessionState::SchemaWait || state_ == SessionState::MonitorWait ||
                  state_ == SessionState::Live;
    if (!active || config_.probe_interval == 0)
        return UINT64_MAX;
    return heard_at_ + config_.probe_interval;
}

} // namespace alopex::ovs::ovsdb
