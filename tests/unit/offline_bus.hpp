// SPDX-License-Identifier: GPL-2.0-or-later
// Messages built without a bus daemon, for the unit tests that parse what a peer sends:
// an sd-bus connection over a socketpair (nobody answers on the other end) to create
// messages on, and sealing so that they read back as a received message does.
#pragma once

#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <systemd/sd-bus.h>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"

namespace alopex::test {

struct OfflineBus {
    BusPtr bus;
    Fd peer;
    OfflineBus()
    {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        sd_bus *raw = nullptr;
        REQUIRE(sd_bus_new(&raw) >= 0);
        bus.reset(raw);
        peer.reset(fds[1]);
        REQUIRE(sd_bus_set_fd(raw, fds[0], fds[0]) >= 0);
        REQUIRE(sd_bus_start(raw) >= 0);
    }
    ~OfflineBus() { peer.reset(); }   // close first: the bus' flush ends at once
    // A message to append to (a signal; its body is all that matters).
    MessagePtr message()
    {
        sd_bus_message *m = nullptr;
        REQUIRE(sd_bus_message_new_signal(bus.get(), &m, "/a", "org.alopex.Test", "S") >= 0);
        return MessagePtr(m);
    }
};

// Makes `m` readable from its start, as a received message.
inline void seal(sd_bus_message *m)
{
    REQUIRE(sd_bus_message_seal(m, 1, 0) >= 0);
    REQUIRE(sd_bus_message_rewind(m, 1) >= 0);
}

// Appends one {sv} entry of a property dictionary: the name, then a value of signature
// `sig` (sd_bus_message_append's arguments), with sd-bus' own appenders.
template <typename... A> void append_property(sd_bus_message *m, const char *name, const char *sig, A... args)
{
    REQUIRE(sd_bus_message_open_container(m, 'e', "sv") >= 0);
    REQUIRE(sd_bus_message_append_basic(m, 's', name) >= 0);
    REQUIRE(sd_bus_message_open_container(m, 'v', sig) >= 0);
    REQUIRE(sd_bus_message_append(m, sig, args...) >= 0);
    REQUIRE(sd_bus_message_close_container(m) >= 0);
    REQUIRE(sd_bus_message_close_container(m) >= 0);
}

} // namespace alopex::test
