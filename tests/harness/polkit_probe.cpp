// SPDX-License-Identifier: GPL-2.0-or-later
// alopex-test-polkit-probe: a tiny service for integration tests of libcommon's bus
// pieces on a real bus: bus::Service with a Vtable over a generated spec, Call::authorize
// with polkit::Authority, coalesced PropertiesChanged and Service::emit.
//   alopex-test-polkit-probe [--name NAME]   (default org.alopex.Test1)
// Owns NAME with the interface of org.alopex.Test1.xml (beside this file) at
// /org/alopex/Test1.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/object.hpp"
#include "probe1_spec.hpp"
#include "alopex/polkit.hpp"
#include "alopex/sd.hpp"

using namespace alopex;

namespace {

namespace t1 = ipc::probe1::test1;
constexpr const char *probe_path = "/org/alopex/Test1";

class Probe {
public:
    explicit Probe(bus::Service &service) : service_(service) {}

    void guarded(bus::Call &c)
    {
        if (c.authorize("org.alopex.link.configure"))
            c.reply(std::string("authorized"));
    }
    void check(bus::Call &c, const std::string &action)
    {
        action_ = action;   // authorize() keeps no copy; the handler runs again
        if (c.authorize(action_.c_str()))
            c.reply(std::string("authorized"));
    }
    void pending(bus::Call &c) { c.reply(static_cast<uint32_t>(service_.authority().pending())); }
    void bump(bus::Call &c, uint32_t times)
    {
        for (uint32_t i = 0; i < times; ++i) {
            ++counter_;
            service_.changed(probe_path, t1::spec, t1::property::Counter);
            label_ = "bump-" + std::to_string(counter_);
            service_.changed(probe_path, t1::spec, t1::property::Label);
        }
        if (auto r = service_.emit(probe_path, t1::spec, t1::signal::Bumped, counter_, label_); !r)
            return c.fail(r.error());
        c.reply();
    }
    uint32_t counter() const { return counter_; }
    std::string label() const { return label_; }

private:
    bus::Service &service_;
    std::string action_;
    uint32_t counter_ = 0;
    std::string label_ = "initial";
};

const bus::Vtable<Probe> &vtable()
{
    static const auto vt = bus::Vtable<Probe>(t1::spec)
                               .method(t1::method::Guarded, &Probe::guarded)
                               .method(t1::method::Check, &Probe::check)
                               .method(t1::method::Pending, &Probe::pending)
                               .method(t1::method::Bump, &Probe::bump)
                               .property(t1::property::Counter, [](const Probe &p) { return p.counter(); })
                               .property(t1::property::Label, [](const Probe &p) { return p.label(); });
    return vt;
}

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
    if ((r = sd_bus_attach_event(bus.get(), event.get(), 0)) < 0) {
        std::fprintf(stderr, "probe: cannot attach the bus: %s\n", std::strerror(-r));
        return 1;
    }
    bus::Service service(bus.get(), event.get());
    Probe probe(service);
    auto reg = service.add(probe_path, vtable(), probe);
    if (!reg) {
        std::fprintf(stderr, "probe: %s\n", reg.error().to_string().c_str());
        return 1;
    }
    if ((r = sd_bus_request_name(bus.get(), name, 0)) < 0) {
        std::fprintf(stderr, "probe: cannot own %s: %s\n", name, std::strerror(-r));
        return 1;
    }
    std::fprintf(stderr, "probe: ready\n");
    r = sd_event_loop(event.get());
    return r < 0 ? 1 : 0;
}
