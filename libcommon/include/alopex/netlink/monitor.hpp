// SPDX-License-Identifier: GPL-2.0-or-later
// The rtnetlink monitor shared by linkd, fwd and ovs-agentd.
//
// Sequence: join the multicast groups first, then dump links, addresses and routes (one
// dump at a time on a second socket) into a fresh snapshot while live events are queued;
// when the last dump ends, drain the event socket, replay the queue onto the snapshot
// (each message carries the object's whole state, so replaying one the dump already saw
// is harmless), deliver diff(current, fresh) and "synced". After that every live message
// is applied at once and delivered as typed events.
//
// With routes_after_links, the initial sync comes in two steps: once the link and address
// dumps are in, they are delivered (on_links_synced) and their live changes follow at
// once while the route dump runs; the routes (and their queued changes) are delivered
// when it ends (on_synced). A consumer can then serve what it knows about links without
// waiting for a routing daemon's table of 600,000 routes. Resyncs are never staged.
//
// On ENOBUFS the event stream has lost messages: the same dump-and-diff runs again
// (rate-limited by an sd-event timer), so consumers get exactly the differences and
// converge. A dump reporting NLM_F_DUMP_INTR, or an overrun during a dump, starts over.
//
// The sockets sit behind a Transport (transport.hpp); unit tests inject a fake one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <systemd/sd-event.h>

#include "alopex/error.hpp"
#include "alopex/netlink/socket.hpp"
#include "alopex/netlink/state.hpp"
#include "alopex/netlink/transport.hpp"
#include "alopex/sd.hpp"

namespace alopex::netlink {

struct MonitorOptions {
    bool links = true;
    bool ipv4_addresses = true;
    bool ipv6_addresses = true;
    bool ipv4_routes = true;
    bool ipv6_routes = true;
    int receive_buffer = 8 << 20;  // bytes; SO_RCVBUFFORCE, else SO_RCVBUF (kernel transport)
    // Re-dumps start at least this long after the previous dump started.
    std::chrono::microseconds min_resync_interval = std::chrono::milliseconds(100);
    RouteFilter route_filter;      // empty: keep every route (see state.hpp)
    // The initial sync delivers links and addresses before the route dump (see above).
    bool routes_after_links = false;
};

struct MonitorCallbacks {
    std::function<void(const Event &)> on_event;
    // After the initial sync (initial = true) and after every resync (false).
    std::function<void(bool initial)> on_synced;
    // With routes_after_links: once, when the initial link and address dumps are in and
    // delivered; routes follow (on_synced(true) when they are in).
    std::function<void()> on_links_synced;
    // Contained failures (a malformed message, a failed dump); the monitor keeps going.
    std::function<void(const Error &)> on_error;
};

class Monitor {
public:
    // Opens the sockets, joins the groups and sends the first dump request. Events arrive
    // once `event` runs. Callbacks must not destroy the Monitor.
    static Result<std::unique_ptr<Monitor>> create(sd_event *event, MonitorOptions options,
                                                   MonitorCallbacks callbacks);
    // The same over an injected transport (options.receive_buffer is then unused).
    static Result<std::unique_ptr<Monitor>> create(sd_event *event, MonitorOptions options,
                                                   MonitorCallbacks callbacks,
                                                   std::unique_ptr<Transport> transport);
    ~Monitor();
    Monitor(const Monitor &) = delete;
    Monitor &operator=(const Monitor &) = delete;
    Monitor(Monitor &&) = delete;
    Monitor &operator=(Monitor &&) = delete;

    const Snapshot &state() const noexcept { return state_; }
    bool synced() const noexcept { return synced_; }
    // Links and addresses are delivered and followed live (from on_links_synced, or the
    // full sync, on).
    bool links_synced() const noexcept { return links_synced_ || synced_; }
    bool dumping() const noexcept { return phase_ != Phase::Idle; }
    // A re-dump is running or its rate-limit timer is armed.
    bool resync_pending() const noexcept;
    uint64_t resyncs() const noexcept { return resyncs_; }      // completed re-dumps
    uint64_t overruns() const noexcept { return overruns_; }    // ENOBUFS seen
    int receive_buffer() const noexcept { return transport_->receive_buffer(); }  // as the kernel reports it
    // CLOCK_MONOTONIC microseconds at which the datagram holding the event being delivered
    // was read from the event socket (0 before the first): an on_event handler measures
    // its latency from there, so the time an event waited behind earlier ones counts.
    uint64_t received_us() const noexcept { return received_us_; }

    // Routes the last completed dump held that options.route_filter does not keep
    // (passed over unparsed, never cached).
    uint64_t routes_not_kept() const noexcept { return routes_passed_; }

    // Re-dump and deliver the differences (rate-limited like an overrun).
    void request_resync();

private:
    enum class Phase { Idle, Links, Addresses, Routes };

    Monitor(MonitorOptions options, MonitorCallbacks callbacks, std::unique_ptr<Transport> transport);
    Result<> start(sd_event *event);
    void arm_timer(uint64_t usec);

    static int on_event_io(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_dump_io(sd_event_source *, int, uint32_t, void *userdata) noexcept;
    static int on_timer(sd_event_source *, uint64_t, void *userdata) noexcept;

    // Reads up to `budget` datagrams from the event socket (0 = until EAGAIN).
    Result<> read_events(unsigned budget);
    Result<> read_dump();
    void handle_event_message(Message &&m);
    void schedule_resync();
    Result<> start_dump();
    Result<> send_dump_request(Phase phase);
    Result<> next_phase();
    void finish_dump();
    // routes_after_links: the link and address part of the initial sync, delivered.
    void finish_links();
    void deliver(const std::vector<Event> &events);
    void report(const Error &e);
    bool wanted(const Message &m) const;

    MonitorOptions opt_;
    MonitorCallbacks cb_;
    sd_event *event_ = nullptr;
    std::unique_ptr<Transport> transport_;
    EventSourcePtr events_src_, dump_src_, timer_src_;
    std::vector<std::byte> buf_;

    Snapshot state_, fresh_;
    std::vector<Message> queued_;
    Phase phase_ = Phase::Idle;
    uint32_t dump_seq_ = 0;
    unsigned dump_portid_ = 0;
    bool restart_ = false;          // the running dump is void; start over when it ends
    bool synced_ = false;
    bool links_synced_ = false;     // the staged initial sync delivered links and addresses
    bool routes_follow_ = false;    // ... and its route dump runs: link and address events apply live
    uint64_t last_dump_start_ = 0;  // CLOCK_MONOTONIC usec
    uint64_t received_us_ = 0;
    uint64_t resyncs_ = 0, overruns_ = 0;
    uint64_t dump_routes_passed_ = 0, routes_passed_ = 0;
};

} // namespace alopex::netlink
