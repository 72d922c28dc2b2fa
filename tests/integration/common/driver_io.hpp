// SPDX-License-Identifier: GPL-2.0-or-later
// A test driver's two ends (ovs-agentd's, dnsd-controller's): event lines out on stdout, command lines in on
// stdin (the test holds the other end of one socketpair); stdin closed ends the loop.
#pragma once

#include <functional>
#include <string>

#include <unistd.h>

#include "alopex/sd.hpp"

namespace driver_io {

inline void say(const std::string &line)
{
    std::string l = line + "\n";
    (void)!::write(STDOUT_FILENO, l.data(), l.size());
}

// Calls `command` with each line read from stdin.
inline alopex::EventSourcePtr read_commands(sd_event *event, std::function<void(const std::string &)> command)
{
    struct Reader {
        std::function<void(const std::string &)> command;
        std::string input;
    };
    static Reader reader;
    reader.command = std::move(command);
    sd_event_source *in = nullptr;
    sd_event_add_io(
        event, &in, STDIN_FILENO, EPOLLIN,
        [](sd_event_source *s, int fd, uint32_t, void *) noexcept -> int {
            char buf[4096];
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) {
                sd_event_exit(sd_event_source_get_event(s), 0);
                return 0;
            }
            reader.input.append(buf, static_cast<size_t>(n));
            for (size_t nl; (nl = reader.input.find('\n')) != std::string::npos;) {
                std::string line = reader.input.substr(0, nl);
                reader.input.erase(0, nl + 1);
                reader.command(line);
            }
            return 0;
        },
        nullptr);
    return alopex::EventSourcePtr(in);
}

// Calls `tick` every `usec` (CLOCK_MONOTONIC).
inline alopex::EventSourcePtr every(sd_event *event, uint64_t usec, std::function<void()> tick)
{
    struct Ticker {
        std::function<void()> tick;
        uint64_t usec = 0;
    };
    static Ticker ticker;
    ticker = {std::move(tick), usec};
    sd_event_source *s = nullptr;
    sd_event_add_time_relative(
        event, &s, CLOCK_MONOTONIC, usec, usec / 5,
        [](sd_event_source *src, uint64_t, void *) noexcept -> int {
            ticker.tick();
            sd_event_source_set_time_relative(src, ticker.usec);
            return 0;
        },
        nullptr);
    sd_event_source_set_enabled(s, SD_EVENT_ON);
    return alopex::EventSourcePtr(s);
}

} // namespace driver_io
