// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Broker1 at /org/alopex/Broker1: the D-Bus surface of the Broker, bound to the
// interface spec generated from ipc/org.alopex.Broker1.xml (bus::Vtable). Every method
// first identifies its caller by EUID from the bus daemon (bus::sender_euid_async: asked
// without waiting, never from /proc); the broker asks no polkit: its table decides.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/object.hpp"
#include "alopex/error.hpp"
#include "broker.hpp"

namespace alopex::broker {

// Non-movable: the registration points at it.
class BusApi {
public:
    explicit BusApi(Broker &broker) : broker_(broker) {}
    BusApi(const BusApi &) = delete;
    BusApi &operator=(const BusApi &) = delete;

    // Serves org.alopex.Broker1 at /org/alopex/Broker1 on `bus`.
    Result<void> attach(sd_bus *bus, sd_event *event);

    void ping(bus::Call &c);
    void version(bus::Call &c);
    void open_device(bus::Call &c, std::string path);
    void write_managed_file(bus::Call &c, std::string id, std::vector<uint8_t> contents);
    void write_managed_block(bus::Call &c, std::string id, std::string tag, std::string contents);
    void open_ovsdb(bus::Call &c);
    void open_ovs_bridge(bus::Call &c, std::string bridge);
    void record(bus::Call &c, std::string action, std::string details);

private:
    Broker &broker_;
    std::unique_ptr<bus::Service> service_;
    bus::Registration registration_;
};

} // namespace alopex::broker
