// SPDX-License-Identifier: GPL-2.0-or-later
// The OVSDB session (ovsdb/session.hpp) on a socket and the event loop: bytes read as
// they come and written without blocking (a backlog waits for EPOLLOUT), the session's
// keepalive timer, and reconnection: when the connection goes or the session fails, the
// socket is closed and a new one is asked for after a backoff (100 ms, doubling to 8 s;
// back to 100 ms once a session synced). Where the socket comes from is the owner's: the
// broker's OpenOvsdb in the daemon, a unix socket path in tests. Nothing here blocks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "session.hpp"

namespace alopex::ovs {

class OvsdbConnection {
public:
    // Asks for a connected stream socket to ovsdb-server (non-blocking, close-on-exec);
    // the answer (or why not) comes through the callback, now or later (the broker's
    // OpenOvsdb is a D-Bus call).
    using Connected = std::function<void(Result<Fd>)>;
    using Connect = std::function<void(Connected)>;
    struct Options {
        uint64_t min_backoff = 100'000, max_backoff = 8'000'000;   // µs
    };
    // Connects at once (a failure is retried like a lost connection).
    static Result<std::unique_ptr<OvsdbConnection>> create(sd_event *event, Connect connect,
                                                          ovsdb::SessionConfig config,
                                                          ovsdb::Session::Callbacks callbacks, Options options);
    ~OvsdbConnection();
    OvsdbConnection(const OvsdbConnection &) = delete;
    OvsdbConnection &operator=(const OvsdbConnection &) = delete;

    ovsdb::Session &session() noexcept { return *session_; }
    bool live() const noexcept { return session_->state() == ovsdb::SessionState::Live; }
    uint64_t connects() const noexcept { return connects_; }

    // A connect(2) to a unix stream socket at `path`.
    static Result<Fd> connect_unix(const std::string &path);
    static Connect unix_socket(std::string path)
    {
        return [path = std::move(path)](Connected done) { done(connect_unix(path)); };
    }

private:
    OvsdbConnection(sd_event *event, Connect connect, Options options)
        : event_(event), connect_(std::move(connect)), options_(options), backoff_(options.min_backoff) {}
    void attempt();
    void use(Result<Fd> fd);
    void drop(const std::string &why);   // closes, and retries after the backoff
    void send(std::string_view bytes);
    void flush();
    void read_all();
    void rearm();
    uint64_t now() const;
    static int on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept;
    static int on_timer(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_retry(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_lost(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    Connect connect_;
    Options options_;
    std::unique_ptr<ovsdb::Session> session_;
    ovsdb::Session::Callbacks user_;
    Fd fd_;
    EventSourcePtr io_, timer_, retry_, lost_;
    std::string out_;          // written when the socket takes it
    std::string lost_why_;
    uint64_t backoff_;
    uint64_t connects_ = 0;
    bool connecting_ = false;   // a Connect is under way
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);   // for a Connect answering after we are gone
};

} // namespace alopex::ovs
