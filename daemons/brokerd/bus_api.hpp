// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Broker1 at /org/alopex/Broker1: the D-Bus surface of the Broker.
#pragma once

#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"
#include "broker.hpp"

namespace alopex::broker {

// The caller's EUID from its bus credentials (sd_bus_query_sender_creds); a value that
// sd-bus could only get by augmenting from /proc is refused.
Result<uid_t> caller_euid(sd_bus_message *m);

// Non-movable: `this` is the vtable's userdata.
class BusApi {
public:
    explicit BusApi(Broker &broker) : broker_(broker) {}
    BusApi(const BusApi &) = delete;
    BusApi &operator=(const BusApi &) = delete;

    // Adds the vtable at /org/alopex/Broker1.
    Result<void> attach(sd_bus *bus);

    int ping(sd_bus_message *m, sd_bus_error *ret);
    int version(sd_bus_message *m, sd_bus_error *ret);
    int open_device(sd_bus_message *m, sd_bus_error *ret);
    int write_managed_file(sd_bus_message *m, sd_bus_error *ret);
    int write_managed_block(sd_bus_message *m, sd_bus_error *ret);
    int open_ovsdb(sd_bus_message *m, sd_bus_error *ret);
    int record(sd_bus_message *m, sd_bus_error *ret);

private:
    Broker &broker_;
    SlotPtr slot_;
};

} // namespace alopex::broker
