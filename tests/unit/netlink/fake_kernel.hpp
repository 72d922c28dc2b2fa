// SPDX-License-Identifier: GPL-2.0-or-later
// A fake kernel behind the Monitor's Transport seam, for unit tests without sockets.
//
// It models what matters for the monitor's correctness:
//  - an object table (links, addresses, routes) fed with builders.hpp messages;
//  - multicast: a change is queued on the event channel only for joined groups;
//  - dumps as the kernel produces them: the first datagram is filled when the request
//    is sent, each further one when the previous one is read, from the table *as it is
//    then*, continuing after the last key sent (so a change during a dump shows up in it
//    or not depending on where the dump is);
//  - injected faults: ENOBUFS on the event channel, NLM_F_DUMP_INTR on a dump datagram.
// Readiness is an eventfd per channel, readable while that channel has data.
#pragma once

#include <systemd/sd-event.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "alopex/fd.hpp"
#include "alopex/netlink/monitor.hpp"
#include "alopex/netlink/state.hpp"
#include "alopex/netlink/transport.hpp"
#include "builders.hpp"

namespace alopex::netlink::test {

class FakeKernel {
public:
    // `event` is only used to timestamp dump requests with sd_event_now().
    explicit FakeKernel(sd_event *event);
    ~FakeKernel();
    FakeKernel(const FakeKernel &) = delete;
    FakeKernel &operator=(const FakeKernel &) = delete;

    // A transport handle for Monitor::create; this FakeKernel must outlive it.
    std::unique_ptr<Transport> transport();

    // Kernel changes. The message's RTM_NEW*/RTM_DEL* type says what happens; the change
    // is multicast to joined groups unless `notify` is false (a notification lost).
    void change(const Msg &m, bool notify = true);
    // The next read of the event channel fails with ENOBUFS (after what is queued).
    void overrun();
    // An arbitrary datagram on the event channel (no table change).
    void raw_event(std::span<const std::byte> bytes);
    // The next dump datagram produced carries NLM_F_DUMP_INTR.
    void interrupt_next_part() { intr_next_ = true; }

    // The table as a Snapshot (what a correct monitor must converge to).
    Snapshot snapshot() const;

    // Hooks, both optional. `after_call` runs after each transport call ("subscribe",
    // "dump link"/"dump addr"/"dump route") has taken effect; `before_part` runs before
    // datagram `part` (0-based) of the current dump is produced.
    std::function<void(const std::string &call)> after_call;
    std::function<void(uint16_t type, size_t part)> before_part;
    size_t per_part = 2;  // objects per dump datagram

    // Records.
    std::vector<std::string> calls;
    std::vector<uint64_t> link_dump_times;  // sd_event_now(CLOCK_MONOTONIC) per RTM_GETLINK
    std::vector<unsigned> groups;
    size_t dumps(uint16_t type) const;
    // Nothing queued on either channel and no dump running.
    bool idle() const;

    // Transport side (called through the handle).
    int fd(Transport::Channel c) const noexcept;
    Result<> subscribe(std::span<const unsigned> g);
    Result<> request_dump(const DumpRequest &r);
    Result<Transport::Received> receive(Transport::Channel c, std::span<std::byte> buf);

    static constexpr uint32_t portid = 4242;

private:
    using Cursor = std::variant<std::monostate, int, AddressKey, RouteKey>;
    struct Dump {
        DumpRequest req;
        size_t part = 0;
        Cursor cursor;
        bool done = false;
    };
    using Item = std::variant<std::vector<std::byte>, int>;  // a datagram or an errno

    bool joined(unsigned group) const;
    void produce();  // the next datagram of the running dump onto the dump queue
    void update(Transport::Channel c);

    sd_event *event_;
    Fd events_fd_, dump_fd_;
    std::map<int, Msg> links_;
    std::map<AddressKey, Msg> addresses_;
    std::map<RouteKey, Msg> routes_;
    std::deque<Item> events_q_;
    std::deque<std::vector<std::byte>> dump_q_;
    std::optional<Dump> dump_;
    bool intr_next_ = false;
    uint32_t event_seq_ = 0;
};

// Message helpers on top of builders.hpp.
inline Msg new_link(int ifindex, const char *name, uint32_t mtu = 1500)
{
    auto m = link_msg(RTM_NEWLINK, ifindex, name);
    m.u32(IFLA_MTU, mtu);
    return m;
}
inline Msg del_link(int ifindex) { return link_msg(RTM_DELLINK, ifindex, "gone"); }
inline Msg new_addr(int ifindex, const char *a, uint8_t len)
{
    return addr_msg(RTM_NEWADDR, a[0] && std::string_view(a).find(':') != std::string_view::npos ? AF_INET6 : AF_INET,
                    ifindex, a, len);
}
inline Msg new_route(const char *dst, uint8_t len, int oif) { return route_msg(RTM_NEWROUTE, AF_INET, dst, len, oif); }
// The object a message describes (throws for messages the monitor does not model).
Object object_of(const Msg &m);

// A consumer that knows only the delivered events, and counts them per object.
struct Consumer {
    Snapshot s;
    std::vector<Event> log;
    size_t synced = 0, initial_synced = 0;
    size_t links_synced = 0;  // on_links_synced calls (routes_after_links)
    size_t live_during_dump = 0;      // ... those live ones, counted after on_links_synced
    // Events delivered while the monitor was dumping (must be 0); with routes_after_links,
    // link and address events during the initial route dump are live and not counted.
    size_t during_dump = 0;
    std::function<void()> at_links_synced;  // optional, run from on_links_synced
    void on(const Event &e);
    // How many events named this object (by key), of change `c` or of any change.
    size_t count(const Object &o, std::optional<Change> c = std::nullopt) const;
};

// sd-event loop + fake kernel + monitor + consumer.
struct Rig {
    EventPtr ev;
    std::unique_ptr<FakeKernel> kernel;
    Consumer consumer;
    std::vector<Error> errors;
    std::unique_ptr<Monitor> mon;

    Rig();
    // Creates the monitor over the fake kernel (subscribes and sends the first request).
    void start(MonitorOptions opt = {});
    // Dispatches until `pred` holds or `timeout_ms` passes; no fixed sleeps.
    bool run_until(const std::function<bool()> &pred, int timeout_ms = 5000);
    // Runs until the monitor is synced and idle with nothing left to read.
    bool settle(int timeout_ms = 5000);
};

} // namespace alopex::netlink::test
