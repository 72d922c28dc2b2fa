// SPDX-License-Identifier: GPL-2.0-or-later
// Running a configured command (container_name_cmd) on the event loop: argv as given, no
// shell, no inherited descriptors but /dev/null for stdin and stderr and a pipe for its
// standard output; killed at the deadline. The answer is the first line it printed, or
// why there is none (it failed, timed out, printed nothing or more than it may).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"

namespace alopex::ovs {

class Command {
public:
    using Done = std::function<void(Result<std::string> first_line)>;
    // `argv[0]` is an absolute path. Output beyond 4 KiB, a non-zero exit, a signal or
    // the timeout is an error.
    static Result<std::unique_ptr<Command>> start(sd_event *event, const std::vector<std::string> &argv,
                                                  uint64_t timeout_usec, Done done);
    ~Command();
    Command(const Command &) = delete;
    Command &operator=(const Command &) = delete;

private:
    Command() = default;
    void finish(Result<std::string> r);
    void reap();
    static int on_output(sd_event_source *, int fd, uint32_t revents, void *userdata) noexcept;
    static int on_exit(sd_event_source *, int fd, uint32_t revents, void *userdata) noexcept;
    static int on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// {ifname} and {vmid} in each argument replaced.
std::vector<std::string> fill_command(const std::vector<std::string> &argv, const std::string &ifname,
                                      const std::string &vmid);

} // namespace alopex::ovs
