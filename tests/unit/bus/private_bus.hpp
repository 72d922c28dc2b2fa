// SPDX-License-Identifier: GPL-2.0-or-later
// A dbus-daemon of a test's own (a session-type bus on a socket in a temporary directory),
// for the bus unit tests that need name ownership and signal routing.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <systemd/sd-bus.h>

#include "alopex/sd.hpp"

namespace alopex::test {

namespace fs = std::filesystem;

// dbus-daemon on a socket in a temporary directory, killed at the end.
struct PrivateBus {
    fs::path dir;
    pid_t pid = -1;
    std::string address;
    PrivateBus()
    {
        std::string t = (fs::temp_directory_path() / "alopex-bus-XXXXXX").string();
        REQUIRE(mkdtemp(t.data()));
        dir = t;
        std::ofstream(dir / "bus.conf")
            << "<busconfig><type>session</type><listen>unix:path=" << (dir / "socket").string()
            << "</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\"/>"
               "<allow receive_sender=\"*\"/><allow own=\"*\"/></policy></busconfig>\n";
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            execlp("dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog",
                   ("--config-file=" + (dir / "bus.conf").string()).c_str(), nullptr);
            _exit(127);
        }
        address = "unix:path=" + (dir / "socket").string();
        for (int i = 0; i < 500 && !fs::exists(dir / "socket"); ++i)
            usleep(10'000);
        REQUIRE(fs::exists(dir / "socket"));
    }
    ~PrivateBus()
    {
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    alopex::BusPtr connect(sd_event *e) const
    {
        sd_bus *b = nullptr;
        REQUIRE(sd_bus_new(&b) >= 0);
        BusPtr bus(b);
        REQUIRE(sd_bus_set_address(b, address.c_str()) >= 0);
        REQUIRE(sd_bus_set_bus_client(b, 1) >= 0);
        REQUIRE(sd_bus_start(b) >= 0);
        REQUIRE(sd_bus_attach_event(b, e, 0) >= 0);
        return bus;
    }
};

// A private bus, one event loop, and two connections to the bus on it: a server and a
// client.
struct TwoPeers {
    PrivateBus pb;
    EventPtr event;
    BusPtr server, client;
    TwoPeers()
    {
        sd_event *raw = nullptr;
        REQUIRE(sd_event_new(&raw) >= 0);
        event.reset(raw);
        server = pb.connect(raw);
        client = pb.connect(raw);
    }
    sd_event *loop() const { return event.get(); }
    // Runs the loop until `pred` holds, at most `rounds` times 10 ms.
    template <typename P> void run_until(P pred, int rounds = 500)
    {
        for (int i = 0; i < rounds && !pred(); ++i)
            REQUIRE(sd_event_run(event.get(), 10'000) >= 0);
        REQUIRE(pred());
    }
};

} // namespace alopex::test
