// SPDX-License-Identifier: GPL-2.0-or-later
// Client side of org.alopex.Slirp1 for alopexctl: the instances on the bus (names
// org.alopex.Slirp1.LABEL), each one's properties read by a bus::PropertyReader, and its
// methods called with the signatures generated from ipc/org.alopex.Slirp1.xml. The calls
// block (command-line tools only); a D-Bus error comes back as an alopex::Error with the
// error's name in Error::bus_name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/bus/reader.hpp"
#include "alopex/error.hpp"
#include "alopex/ipc/slirp1.hpp"

namespace alopex::ipc::slirp1 {


struct LineInfo {
    Instance where;
    std::string instance, device, mode, phase, local_address, peer_address;
    bool line_open = false;
    std::vector<std::string> dns_servers;
    std::map<std::string, std::string> options;
    uint64_t echo_rtt_usec = 0;
    std::map<std::string, uint64_t> counters;
    uint32_t connections = 0;
    std::vector<std::tuple<std::string, std::string, uint16_t, std::string>> port_maps;   // proto, address, port, target
    // address, port, backend, state, failures in a row, connects, connects failed
    std::vector<std::tuple<std::string, uint16_t, std::string, std::string, uint32_t, uint64_t, uint64_t>> backends;
    // [listen]: configured, where it listens, destination, connections carried
    std::vector<std::tuple<std::string, std::string, std::string, uint64_t>> listeners;
};
const bus::PropertyReader<LineInfo> &line_reader();

struct ConnectionInfo {
    uint64_t id = 0;
    std::string peer;
    uint16_t peer_port = 0;
    std::string destination;
    uint16_t destination_port = 0;
    std::string target, state;
    uint64_t bytes_from_peer = 0, bytes_to_peer = 0, idle_usec = 0;
    uint64_t queue_delay_usec = 0;   // a paced line's flow queue: its last packet's wait
};

// Every instance on the bus (ListNames), sorted by name.
Result<std::vector<Instance>> list_instances(sd_bus *bus);
Result<LineInfo> read_line(sd_bus *bus, const Instance &i);
Result<std::vector<ConnectionInfo>> list_connections(sd_bus *bus, const Instance &i);
Result<> close_connection(sd_bus *bus, const Instance &i, uint64_t id);
Result<std::vector<std::string>> reload(sd_bus *bus, const Instance &i);
// Capture(fd, seconds): the instance writes pcap to `fd` (its own copy) and closes it then.
Result<> capture(sd_bus *bus, const Instance &i, int fd, uint32_t seconds);

} // namespace alopex::ipc::slirp1
