// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-polkit-probe: a tiny service for integration tests of libcommon's bus
// helpers: the polkit client, PropertiesCoalescer and emit_signal.
//   alopex-test-polkit-probe [--name NAME]   (default org.alopex.Test1)
// Owns NAME with, at /org/alopex/Test1, interface org.alopex.Test1:
//   Guarded() -> s        checks org.alopex.link.configure, replies "authorized"
//   Check(s action) -> s  checks the given action
//   Pending() -> u        polkit queries asked and not yet consumed
//   Bump(u n) -> ()       in one handler: n increments of Counter and n changes of Label,
//                         each marked on the coalescer, then signal Bumped(Counter, Label)
//   Counter (u), Label (s): read-only properties that emit PropertiesChanged with values
//   Bumped(u counter, s label): signal sent by Bump through bus::emit_signal
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus.hpp"
#include "alopex/polkit.hpp"
#include "alopex/sd.hpp"

using namespace alopex;

namespace {

constexpr const char *probe_path = "/org/alopex/Test1";
constexpr const char *probe_iface = "org.alopex.Test1";

class Probe {
public:
    Probe(sd_bus *bus, sd_event *event) : bus_(bus), authority_(bus), props_(bus, event) {}
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
    int bump(sd_bus_message *m, sd_bus_error *ret)
    {
        auto args = bus::read<uint32_t>(m);
        if (!args)
            return bus::set_error(ret, args.error());
        for (uint32_t i = 0; i < std::get<0>(*args); ++i) {
            ++counter_;
            props_.mark(probe_path, probe_iface, "Counter");
            label_ = "bump-" + std::to_string(counter_);
            props_.mark(probe_path, probe_iface, "Label");
        }
        int r = bus::emit_signal(bus_, probe_path, probe_iface, "Bumped", counter_, label_);
        if (r < 0)
            return r;
        return bus::reply(m);
    }
    int get_counter(sd_bus_message *reply, sd_bus_error *) { return bus::append(reply, counter_); }
    int get_label(sd_bus_message *reply, sd_bus_error *) { return bus::append(reply, label_); }

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
    sd_bus *bus_;
    polkit::Authority authority_;
    bus::PropertiesCoalescer props_;
    std::string action_;
    uint32_t counter_ = 0;
    std::string label_ = "initial";
};

const sd_bus_vtable probe_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Guarded", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", result),
                            bus::method<&Probe::guarded>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_ARGS("s", action), SD_BUS_RESULT("s", result),
                            bus::method<&Probe::check>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Pending", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", count),
                            bus::method<&Probe::pending>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Bump", SD_BUS_ARGS("u", times), SD_BUS_NO_RESULT,
                            bus::method<&Probe::bump>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Counter", "u", bus::property<&Probe::get_counter>, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Label", "s", bus::property<&Probe::get_label>, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_SIGNAL_WITH_ARGS("Bumped", SD_BUS_ARGS("u", counter, "s", label), 0),
    SD_BUS_VTABLE_END,
};

} // namespace

int main(int argc, char **argv)
{
    const char *name = "org.alopex.Test1";
    if (argc == 3 && std::string_view(argv[1]) == "--name") {
        name = argv[2];
    } else if (argc != 1) {
        std::fprintf(stderr, "usage: alopex-test-polkit-probe [--name NAME]\n");
        return 2;
    }
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
    Probe probe(bus.get(), event.get());
    sd_bus_slot *slot = nullptr;
    if ((r = sd_bus_add_object_vtable(bus.get(), &slot, probe_path, probe_iface, probe_vtable,
                                      &probe)) < 0 ||
        (r = sd_bus_attach_event(bus.get(), event.get(), 0)) < 0 ||
        (r = sd_bus_request_name(bus.get(), name, 0)) < 0) {
        std::fprintf(stderr, "probe: setup failed: %s\n", std::strerror(-r));
        return 1;
    }
    SlotPtr vtable_slot(slot);
    std::fprintf(stderr, "probe: ready\n");
    r = sd_event_loop(event.get());
    return r < 0 ? 1 : 0;
}
