// SPDX-License-Identifier: GPL-2.0-or-later
// unbound's control socket from the event loop: commands queued and run one connection
// at a time (unbound serves them one at a time on its first thread anyway, and holds that
// thread while it does, so a command is never left half sent: every byte goes out as
// soon as the socket takes it, and the reply is read as it comes). A bulk command's lines
// are streamed, never built into one buffer. Each command has a deadline; a reply over
// max_reply bytes, unbound gone (the socket missing or refusing), a reply that is not
// unbound's text: the command fails with an error saying which, and the next one runs.
// Nothing here ever blocks the loop.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "unbound/protocol.hpp"

namespace alopex::dns::unbound {

struct ClientOptions {
    std::string socket;                    // control-interface: /path
    uint64_t timeout_usec = 10'000'000;    // per simple command, connect to the last byte
    uint64_t bulk_timeout_usec = 120'000'000;
    size_t max_reply = 32u << 20;          // bytes
};

class Client {
public:
    using Done = std::function<void(Result<Reply>)>;
    static Result<std::unique_ptr<Client>> create(sd_event *event, ClientOptions options);
    ~Client();
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    // Runs `command` ("status", "flush_zone example.net"); `done` from the loop, never
    // from inside this call, with unbound's reply (whatever it says: expect_ok and the
    // parsers of protocol.hpp judge it) or why there is none.
    void command(std::string command, Done done);
    // A bulk command ("local_zones") with its data lines, then the end marker. A line
    // unbound would not take fails the whole command before anything is sent.
    void bulk(std::string command, std::vector<std::string> lines, Done done);

private:
    struct Job {
        std::string command;
        std::vector<std::string> lines;
        bool bulk = false;
        Done done;
        std::optional<Error> refused;   // not sendable: fails from the loop, unsent
    };
    Client(sd_event *event, ClientOptions options) : event_(event), options_(std::move(options)) {}
    void enqueue(Job job);
    void start();
    void fill();
    void on_writable();
    void on_readable();
    void finish(Result<Reply> r);
    static int on_io(sd_event_source *, int, uint32_t revents, void *userdata) noexcept;
    static int on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept;
    static int on_start(sd_event_source *, void *userdata) noexcept;

    sd_event *event_;
    ClientOptions options_;
    std::deque<Job> jobs_;
    EventSourcePtr start_, io_, timer_;
    Fd fd_;
    bool running_ = false, writing_ = false;
    std::string out_, in_;
    size_t out_pos_ = 0, next_line_ = 0;
    bool ended_ = false;   // the end marker is in out_
};

} // namespace alopex::dns::unbound
