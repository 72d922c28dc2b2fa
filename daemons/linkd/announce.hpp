// SPDX-License-Identifier: GPL-2.0-or-later
// linkd's start, in two steps (org.alopex.Link1.Manager.Startup):
//  1. links_known: the links and addresses are in and the profiles' matches published
//     (Managed, zones, DNS): linkd takes its bus name and says READY=1. Whoever sees the
//     name (fwd following the zones) sees every link in the zone its profile gives it,
//     however long the route dump of a routing daemon's full table then takes.
//  2. The routes are in and the first profile round has the kernel's answers: Startup
//     becomes false (alopex-wait-online waits for that), and the status says so.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace alopex::linkd {

class Manager;

class Announcer {
public:
    Announcer(sd_event *event, sd_bus *bus, Manager &manager) : event_(event), bus_(bus), manager_(manager) {}

    // Step 1: takes the name (exits the loop with 1 if it cannot) and notifies READY=1.
    void links_known();
    // After every profile round; the first ends step 2, the others do nothing.
    void round_done();

private:
    sd_event *event_;
    sd_bus *bus_;
    Manager &manager_;
    bool named_ = false;
};

} // namespace alopex::linkd
