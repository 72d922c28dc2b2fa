// SPDX-License-Identifier: GPL-2.0-or-later
// sd_notify wrappers. The watchdog is driven by sd_event_set_watchdog(), see enable_watchdog.
#pragma once

#include <string_view>

#include <systemd/sd-event.h>

namespace alopex::notify {

void ready(std::string_view status = {});
void status(std::string_view status);
void reloading();
void stopping();
// Sends WATCHDOG=1 at half of $WATCHDOG_USEC from the event loop, if systemd asked for it.
void enable_watchdog(sd_event *event);

} // namespace alopex::notify
