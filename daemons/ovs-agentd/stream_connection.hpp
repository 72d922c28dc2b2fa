// SPDX-License-Identifier: GPL-2.0-or-later
// One stream socket kept connected on the event loop, for a protocol above it (OVSDB's
// session, the OpenFlow base flows): the socket comes from a Connect callback (the
// broker's OpenOvsdb / OpenOvsBridge, or a unix socket in tests); what the protocol sends
// is written as the socket takes it; what arrives goes to `input`; a connection lost (the
// peer closed, a socket error, or fail() from the protocol) is closed and tried again
// after a backoff of 100 ms doubling to 8 s, which reset_backoff() (the protocol's
// success) starts over.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"

namespace alopex::ovs {

class StreamConnection {
public:
    // Asks for a connected stream socket (non-blocking, close-on-exec); the answer (or why
    // not) comes through the callback, now or later.
    using Connected = std::function<void(Result<Fd>)>;
    using Connect = std::function<void(Connected)>;
    struct Options {
        uint64_t min_backoff = 100'000, max_backoff = 8'000'000;   // µs
    };
    struct Callbacks {
        std::function<void()> up;                                   // connected: the protocol starts
        std::function<void(std::span<const char> bytes)> input;
        std::function<void(const std::string &why)> down;           // an up connection was lost
    };
    // Connects from the loop's next iteration (a failure is retried like a lost
    // connection). `what` names the peer in the log ("ovsdb-server").
    static Result<std::unique_ptr<StreamConnection>> create(sd_event *event, std::string what, Connect connect,
                                                            Callbacks callbacks, Options options);
    ~StreamConnection();
    StreamConnection(const StreamConnection &) = delete;
    StreamConnection &operator=(const StreamConnection &) = delete;

    void send(std::string_view bytes);
    // The protocol gives up on this connection: closed from the loop, then retried.
    void fail(std::string why);
    void reset_backoff() noexcept { backoff_ = options_.min_backoff; }
    // Not connected: try now instead of at the end of the backoff.
    void retry_now();
    bool up() const noexcept { return bool(fd_); }
    uint64_t connects() const noexcept { return connects_; }

    // A connect(2) to a unix stream socket at `path`.
    static Result<Fd> connect_unix(const std::string &path);
    static Connect unix_socket(std::string path)
    {
        return [path = std::move(path)](Connected done) { done(connect_unix(path)); };
    }

private:
    StreamConnection(sd_event *event, std::string what, Connect connect, Callbacks callbacks, Options options)
        : event_(event), what_(std::move(what)), connect_(std::move(connect)), cb_(std::move(callbacks)),
          options_(options), backoff_(options.min_backoff) {}
    void attempt();
    void use(Result<Fd> fd);
    void drop(const std::string &why);
    void flush();
    void read_all();
    static int on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept;
    static int on_retry(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_lost(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    std::string what_;
    Connect connect_;
    Callbacks cb_;
    Options options_;
    Fd fd_;
    EventSourcePtr io_, retry_, lost_;
    std::string out_;          // written when the socket takes it
    std::string lost_why_;
    uint64_t backoff_;
    uint64_t connects_ = 0;
    bool connecting_ = false;   // a Connect is under way
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);   // for a Connect answering after we are gone
};

} // namespace alopex::ovs
