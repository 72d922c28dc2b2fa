// SPDX-License-Identifier: GPL-2.0-or-later
// Reload() and SIGHUP: linkd.toml and the link profiles are read again, each on its own
// terms. An invalid linkd.toml is refused (the previous settings stay, the error is
// logged and returned); the profiles are reloaded either way; both errors are returned
// together when both fail. A changed [netlink] receive_buffer takes effect only at the next
// start (said in the log). Reload() answers and SIGHUP's READY=1 comes once the profile
// round that follows has its kernel answers. The parts are functions, so unit tests reach
// it without files.
#pragma once

#include <functional>

#include "alopex/error.hpp"
#include "settings.hpp"

namespace alopex::linkd {

class Reloader {
public:
    struct Parts {
        std::function<Result<Settings>()> load_settings;          // linkd::load_settings(path)
        std::function<void(const Settings &)> apply_settings;     // the parts that follow them
        std::function<Result<>()> reload_profiles;                // Configurator::reload
        // Runs its argument once the profiles reloaded are in force (their round answered
        // by the kernel): Configurator::when_applied. Unset: at once.
        std::function<void(std::function<void()>)> when_applied;
    };
    // `started` are the settings linkd started with.
    Reloader(Parts parts, const Settings &started) : parts_(std::move(parts)), receive_buffer_(started.receive_buffer) {}

    Result<> reload();
    // Reload(): reload(), then `done` with its result once the profiles are in force.
    void reload(std::function<void(Result<>)> done);
    // SIGHUP: RELOADING=1, reload(), READY=1 once the profiles are in force; the result
    // is only logged.
    void sighup();

private:
    Parts parts_;
    int receive_buffer_;
};

} // namespace alopex::linkd
