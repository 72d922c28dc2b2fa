// SPDX-License-Identifier: GPL-2.0-or-later
// The OVSDB session (ovsdb/session.hpp) on a StreamConnection (stream_connection.hpp:
// the socket kept connected, written without blocking, reconnected after a backoff that
// starts over once a session synced) and the session's keepalive timer. When the session
// fails, the connection is closed and a new one asked for. Where the socket comes from is
// the owner's: the broker's OpenOvsdb in the daemon, a unix socket path in tests. Nothing
// here blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "session.hpp"
#include "stream_connection.hpp"

namespace alopex::ovs {

class OvsdbConnection {
public:
    using Connected = StreamConnection::Connected;
    using Connect = StreamConnection::Connect;
    using Options = StreamConnection::Options;
    // Connects from the loop (a failure is retried like a lost connection).
    static Result<std::unique_ptr<OvsdbConnection>> create(sd_event *event, Connect connect,
                                                          ovsdb::SessionConfig config,
                                                          ovsdb::Session::Callbacks callbacks, Options options);
    ~OvsdbConnection();
    OvsdbConnection(const OvsdbConnection &) = delete;
    OvsdbConnection &operator=(const OvsdbConnection &) = delete;

    ovsdb::Session &session() noexcept { return *session_; }
    bool live() const noexcept { return session_->state() == ovsdb::SessionState::Live; }
    uint64_t connects() const noexcept { return stream_->connects(); }

    static Result<Fd> connect_unix(const std::string &path) { return StreamConnection::connect_unix(path); }
    static Connect unix_socket(std::string path) { return StreamConnection::unix_socket(std::move(path)); }

private:
    explicit OvsdbConnection(sd_event *event) : event_(event) {}
    void rearm();
    uint64_t now() const;
    static int on_timer(sd_event_source *, uint64_t, void *userdata) noexcept;

    sd_event *event_;
    std::unique_ptr<ovsdb::Session> session_;
    ovsdb::Session::Callbacks user_;
    std::unique_ptr<StreamConnection> stream_;
    EventSourcePtr timer_;
};

} // namespace alopex::ovs
