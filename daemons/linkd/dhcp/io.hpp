// SPDX-License-Identifier: GPL-2.0-or-later
// The DHCPv4 client's sockets and the sd-event Runner that connects the pure Client to
// them and to a CLOCK_BOOTTIME timer.
//
// - PacketSocket: AF_PACKET/SOCK_DGRAM bound to one ifindex with ETH_P_IP, a classic BPF
//   filter (IPv4, UDP, no fragment, destination port 68) attached before the bind so
//   nothing unfiltered queues, PACKET_AUXDATA to learn when a sender's checksum offload
//   left the UDP checksum unfinished (veth). Sends whole IPv4+UDP datagrams it builds.
// - UdpSocket: AF_INET/SOCK_DGRAM bound to leased-address:68 with SO_BINDTODEVICE (and
//   IP_FREEBIND, so it can be opened while the caller is still applying the address), for
//   unicast renewals and RELEASE.
// Needs CAP_NET_RAW (packet socket) and CAP_NET_BIND_SERVICE (port 68).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/fd.hpp"
#include "alopex/sd.hpp"
#include "client.hpp"

namespace alopex::dhcp {

class PacketSocket {
public:
    static Result<PacketSocket> open(int ifindex);
    // Sends payload in IPv4/UDP 68 -> 67 from `src` to `dst` in a frame to `dmac`.
    Result<void> send(std::span<const uint8_t> payload, Ipv4 src, Ipv4 dst = 0xffffffffu,
                      const Mac &dmac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    // One datagram's DHCP payload. EAGAIN: nothing queued; other errors: a dropped frame.
    Result<std::vector<uint8_t>> receive();
    int fd() const { return fd_.get(); }

private:
    Fd fd_;
    int ifindex_ = 0;
};

class UdpSocket {
public:
    static Result<UdpSocket> open(const std::string &ifname, Ipv4 address);
    Result<void> send(std::span<const uint8_t> payload, Ipv4 server);
    Result<std::vector<uint8_t>> receive();
    int fd() const { return fd_.get(); }
    Ipv4 address() const { return address_; }

private:
    Fd fd_;
    Ipv4 address_ = 0;
};

Result<std::string> interface_name(int ifindex);
Result<Mac> interface_mac(const std::string &ifname);

// The state file, written with write_file_atomic() (temp file beside it, fsync, rename,
// directory fsync; mode 0600). Times are converted between CLOCK_BOOTTIME (the Runner's
// client clock) and wall-clock time.
Result<void> write_lease_file(const std::filesystem::path &p, const Lease &l);
Result<void> remove_lease_file(const std::filesystem::path &p);
// nullopt when the file does not exist; an Error when it exists but is invalid.
Result<std::optional<Lease>> read_lease_file(const std::filesystem::path &p);

class Runner {
public:
    struct Callbacks {
        std::function<void(const Lease &, bool renewed)> on_bound;
        std::function<void(const Lease &)> on_lost;
        std::function<void(const Lease *)> on_persist;     // null: lease gone
        std::function<void(State from, State to)> on_state;
    };
    struct Config {
        int ifindex = 0;
        std::vector<uint8_t> client_id;       // empty: type 1 + MAC
        std::string hostname;                 // empty: not sent
        std::filesystem::path lease_file;     // non-empty: the Runner persists there too
        std::function<uint32_t()> rng;        // empty: getrandom()
    };

    // Opens the packet socket on the link (MAC and name read from the kernel).
    static Result<std::unique_ptr<Runner>> create(sd_event *event, Config config, Callbacks cb);
    Runner(const Runner &) = delete;
    Runner &operator=(const Runner &) = delete;
    ~Runner();

    // With the lease file configured and `persisted` empty, the file is read here.
    void start(std::optional<Lease> persisted = std::nullopt);
    void renew();
    void release();
    void link_down();
    const Client &client() const { return client_; }
    int64_t now() const;     // CLOCK_BOOTTIME, usec

private:
    Runner(sd_event *event, Config config, Callbacks cb, Identity id, std::string ifname,
           PacketSocket raw);
    void execute(Actions actions);
    void feed(const std::vector<uint8_t> &payload, const char *via);
    static int on_raw(sd_event_source *s, int fd, uint32_t revents, void *userdata);
    static int on_udp(sd_event_source *s, int fd, uint32_t revents, void *userdata);
    static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

    sd_event *event_;
    Config config_;
    Callbacks cb_;
    std::string ifname_;
    Client client_;
    PacketSocket raw_;
    std::optional<UdpSocket> udp_;
    EventSourcePtr raw_source_, udp_source_, timer_source_;
};

} // namespace alopex::dhcp
