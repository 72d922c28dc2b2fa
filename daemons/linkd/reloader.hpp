// SPDX-License-Identifier: GPL-2.0-or-later
// Reload() and SIGHUP: linkd.toml and the link profiles are read again, each on its own
// terms. An invalid linkd.toml is refused (the previous settings stay, the error is
// logged and returned); the profiles are reloaded either way; both errors are returned
// together when both fail. A changed [netlink] receive_buffer takes effect only at the next
// start (said in the log). The parts are functions, so unit tests reach it without files.
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
    };
    // `started` are the settings linkd started with.
    Reloader(Parts parts, const Settings &started) : parts_(std::move(parts)), receive_buffer_(started.receive_buffer) {}

    Result<> reload();
    // SIGHUP: reload() with RELOADING=1 / READY=1 around it; the result is only logged.
    void sighup();

private:
    Parts parts_;
    int receive_buffer_;
};

} // namespace alopex::linkd
