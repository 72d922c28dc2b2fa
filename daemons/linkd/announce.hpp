// SPDX-License-Identifier: GPL-2.0-or-later
// linkd takes its bus name, then says READY=1, once the first dump is in and the profiles
// have been applied once (the first round's kernel answers are in): whoever sees the name
// (fwd following the zones, alopex-wait-online) sees linkd's state in force, not the
// empty one of a linkd that has just started.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace alopex::linkd {

class Manager;

class Announcer {
public:
    Announcer(sd_event *event, sd_bus *bus, const Manager &manager)
        : event_(event), bus_(bus), manager_(manager) {}

    // After every profile round; the first takes the name (exits the loop with 1 if it
    // cannot) and notifies READY=1, the others do nothing.
    void round_done();

private:
    sd_event *event_;
    sd_bus *bus_;
    const Manager &manager_;
    bool named_ = false;
};

} // namespace alopex::linkd
