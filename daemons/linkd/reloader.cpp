// SPDX-License-Identifier: GPL-2.0-or-later
#include "reloader.hpp"

#include <fmt/format.h>

#include "alopex/log.hpp"
#include "alopex/notify.hpp"

namespace alopex::linkd {

Result<> Reloader::reload()
{
    Result<Settings> fresh = parts_.load_settings ? parts_.load_settings() : Result<Settings>(Settings{});
    if (!fresh) {
        log::err("{} (keeping the previous settings)", fresh.error().to_string());
    } else {
        if (fresh->receive_buffer != receive_buffer_)
            log::notice("linkd.toml: [netlink] receive_buffer = {} takes effect at the next start (now {})",
                        fresh->receive_buffer, receive_buffer_);
        if (parts_.apply_settings)
            parts_.apply_settings(*fresh);
    }
    Result<> profiles = parts_.reload_profiles ? parts_.reload_profiles() : Result<>{};
    if (!fresh && !profiles)
        return fail(fresh.error().code, fmt::format("{}; {}", fresh.error().to_string(), profiles.error().to_string()));
    if (!fresh)
        return std::unexpected(fresh.error());
    return profiles;
}

void Reloader::reload(std::function<void(Result<>)> done)
{
    auto r = reload();
    if (!parts_.when_applied) {
        done(std::move(r));
        return;
    }
    parts_.when_applied([r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
}

void Reloader::sighup()
{
    notify::reloading();
    reload([](Result<> r) {
        if (!r)
            log::err("reload refused, keeping the last good configuration: {}", r.error().to_string());
        else
            log::info("reloaded linkd.toml and the link profiles");
        notify::ready("following links");
    });
}

} // namespace alopex::linkd
