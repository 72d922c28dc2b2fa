// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-polkit-probe: a tiny service for the polkit client's integration test.
// Owns org.alopex.Test1 at /org/alopex/Test1 with
//   Guarded() -> s        checks org.alopex.link.configure, replies "authorized"
//   Check(s action) -> s  checks the given action
//   Pending() -> u        polkit queries asked and not yet consumed
#include <cstdio>
#include <cstring>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus.hpp"
#include "alopex/polkit.hpp"
#include "alopex/sd.hpp"

using namespace alopex;

namespace {

class Probe {
public:
    explicit Probe(sd_bus *bus) : authority_(bus) {}
    Probe(const Probe &) = delete;
    Probe &operator=(const Probe &) = delete;

    int guarded(sd_bus_message *m, sd_bus_error *ret)
    {
        return guard(m, "org.alopex.link.configure", ret);
    }
    int check(sd_bus_message *m, sd_bus_error *ret)
    {
        auto args = bus::read<std::string>(m);
        if (!args)
            return bus::set_error(ret, args.error());
        action_ = std::get<0>(*args);
        return guard(m, action_.c_str(), ret);
    }
    int pending(sd_bus_message *m, sd_bus_error *)
    {
        return bus::reply(m, static_cast<uint32_t>(authority_.pending()));
    }

private:
    int guard(sd_bus_message *m, const char *action, sd_bus_error *ret)
    {
        int r = authority_.check(m, action, ret);
        if (r < 0)
            return r;
        if (r == 0)
            return 1;   // polkit asked; we are called again with the same message
        return bus::reply(m, std::string("authorized"));
    }
    polkit::Authority authority_;
    std::string action_;
};

const sd_bus_vtable probe_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Guarded", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", result),
                            bus::method<&Probe::guarded>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_ARGS("s", action), SD_BUS_RESULT("s", result),
                            bus::method<&Probe::check>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Pending", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", count),
                            bus::method<&Probe::pending>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

} // namespace

int main()
{
    sd_event *ev = nullptr;
    sd_bus *b = nullptr;
    int r = sd_event_default(&ev);
    EventPtr event(ev);
    if (r >= 0)
        r = sd_bus_open_system(&b);
    BusPtr bus(b);
    if (r < 0) {
        std::fprintf(stderr, "probe: cannot connect: %s\n", std::strerror(-r));
        return 1;
    }
    Probe probe(bus.get());
    sd_bus_slot *slot = nullptr;
    if ((r = sd_bus_add_object_vtable(bus.get(), &slot, "/org/alopex/Test1", "org.alopex.Test1",
                                      probe_vtable, &probe)) < 0 ||
        (r = sd_bus_attach_event(bus.get(), event.get(), 0)) < 0 ||
        (r = sd_bus_request_name(bus.get(), "org.alopex.Test1", 0)) < 0) {
        std::fprintf(stderr, "probe: setup failed: %s\n", std::strerror(-r));
        return 1;
    }
    SlotPtr vtable_slot(slot);
    std::fprintf(stderr, "probe: ready\n");
    r = sd_event_loop(event.get());
    return r < 0 ? 1 : 0;
}
