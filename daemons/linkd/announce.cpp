// SPDX-License-Identifier: GPL-2.0-or-later
#include "announce.hpp"

#include <cstring>

#include "alopex-config.h"
#include "alopex/ipc/link1.hpp"
#include "alopex/log.hpp"
#include "alopex/notify.hpp"
#include "manager.hpp"

namespace alopex::linkd {

void Announcer::links_known()
{
    if (named_)
        return;
    named_ = true;
    if (int r = sd_bus_request_name(bus_, ipc::link1::service, 0); r < 0) {
        log::err("cannot own {}: {}", ipc::link1::service, strerror(-r));
        sd_event_exit(event_, 1);
        return;
    }
    log::info("alopex-linkd {} serving {}", ALOPEX_VERSION, ipc::link1::service);
    notify::ready(fmt::format("reading routes; following {} links", manager_.links().size()));
}

void Announcer::round_done()
{
    if (!manager_.starting())
        return;
    manager_.end_startup();
    log::info("started: {} links, {} routes followed, profiles applied", manager_.links().size(),
              manager_.snapshot().routes.size());
    notify::status(fmt::format("following {} links", manager_.links().size()));
}

} // namespace alopex::linkd
