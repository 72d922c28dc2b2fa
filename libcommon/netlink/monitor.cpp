// SPDX-License-Identifier: GPL-2.0-or-later
// The rtnetlink monitor: subscribe, dump, replay, diff, follow; resync on ENOBUFS.
#include "alopex/netlink/monitor.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include <libmnl/libmnl.h>

namespace alopex::netlink {
namespace {

constexpr size_t buffer_size = 64 * 1024;   // larger than any rtnetlink dump datagram
constexpr unsigned io_budget = 64;          // datagrams per dispatch, then yield
constexpr unsigned drain_budget = 4096;     // datagrams drained when a dump ends

using Channel = Transport::Channel;
using Status = Transport::Status;

constexpr uint64_t timer_accuracy_usec = 1000;  // sd-event's default would add up to 250 ms

uint8_t family_for(bool v4, bool v6)
{
    return v4 && v6 ? AF_UNSPEC : v4 ? AF_INET : AF_INET6;
}

} // namespace

Monitor::Monitor(MonitorOptions options, MonitorCallbacks callbacks, std::unique_ptr<Transport> transport)
    : opt_(std::move(options)), cb_(std::move(callbacks)), transport_(std::move(transport)), buf_(buffer_size)
{
}

Monitor::~Monitor() = default;

Result<std::unique_ptr<Monitor>> Monitor::create(sd_event *event, MonitorOptions options,
                                                 MonitorCallbacks callbacks)
{
    if (!event)
        return fail(EINVAL, "no sd_event loop");
    auto t = open_kernel_transport(options.receive_buffer);
    if (!t)
        return std::unexpected(t.error());
    return create(event, std::move(options), std::move(callbacks), std::move(*t));
}

Result<std::unique_ptr<Monitor>> Monitor::create(sd_event *event, MonitorOptions options,
                                                 MonitorCallbacks callbacks, std::unique_ptr<Transport> transport)
{
    if (!event)
        return fail(EINVAL, "no sd_event loop");
    if (!transport)
        return fail(EINVAL, "no netlink transport");
    std::unique_ptr<Monitor> m(new Monitor(std::move(options), std::move(callbacks), std::move(transport)));
    if (auto r = m->start(event); !r)
        return std::unexpected(r.error());
    return m;
}

Result<> Monitor::start(sd_event *event)
{
    event_ = event;
    dump_portid_ = transport_->dump_portid();

    sd_event_source *s = nullptr;
    int r = sd_event_add_io(event, &s, transport_->fd(Channel::Events), EPOLLIN, on_event_io, this);
    if (r < 0)
        return fail(r, "cannot watch the netlink event socket");
    events_src_.reset(s);
    r = sd_event_add_io(event, &s, transport_->fd(Channel::Dump), EPOLLIN, on_dump_io, this);
    if (r < 0)
        return fail(r, "cannot watch the netlink dump socket");
    dump_src_.reset(s);
    r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, timer_accuracy_usec, on_timer, this);
    if (r < 0)
        return fail(r, "cannot add the resync timer");
    timer_src_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);

    // Groups first: every change from here on is in the stream, so the dumps that follow
    // cannot miss one.
    std::vector<unsigned> groups;
    if (opt_.links)
        groups.push_back(RTNLGRP_LINK);
    if (opt_.ipv4_addresses)
        groups.push_back(RTNLGRP_IPV4_IFADDR);
    if (opt_.ipv6_addresses)
        groups.push_back(RTNLGRP_IPV6_IFADDR);
    if (opt_.ipv4_routes)
        groups.push_back(RTNLGRP_IPV4_ROUTE);
    if (opt_.ipv6_routes)
        groups.push_back(RTNLGRP_IPV6_ROUTE);
    if (auto g = transport_->subscribe(groups); !g)
        return g;

    return start_dump();
}

void Monitor::arm_timer(uint64_t usec)
{
    sd_event_source_set_time(timer_src_.get(), usec);
    sd_event_source_set_enabled(timer_src_.get(), SD_EVENT_ONESHOT);
}

void Monitor::request_resync() { schedule_resync(); }

bool Monitor::resync_pending() const noexcept
{
    int enabled = SD_EVENT_OFF;
    if (timer_src_)
        sd_event_source_get_enabled(timer_src_.get(), &enabled);
    return phase_ != Phase::Idle || enabled != SD_EVENT_OFF;
}

int Monitor::on_event_io(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    auto self = static_cast<Monitor *>(userdata);
    try {
        if (auto r = self->read_events(io_budget); !r)
            self->report(r.error());
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

int Monitor::on_dump_io(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    auto self = static_cast<Monitor *>(userdata);
    try {
        if (auto r = self->read_dump(); !r) {
            self->report(r.error());
            self->phase_ = Phase::Idle;
            self->schedule_resync();
        }
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

int Monitor::on_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto self = static_cast<Monitor *>(userdata);
    try {
        if (self->phase_ == Phase::Idle)
            if (auto r = self->start_dump(); !r) {
                self->report(r.error());
                self->phase_ = Phase::Idle;
                self->last_dump_start_ = 0;
                // Try again after the minimum interval.
                uint64_t now = 0;
                sd_event_now(self->event_, CLOCK_MONOTONIC, &now);
                self->arm_timer(now + static_cast<uint64_t>(self->opt_.min_resync_interval.count()));
            }
    } catch (const std::exception &e) {
        self->report(Error{EIO, e.what(), {}});
    }
    return 0;
}

bool Monitor::wanted(const Message &m) const
{
    if (std::holds_alternative<Link>(m.object))
        return opt_.links;
    if (auto a = std::get_if<Address>(&m.object))
        return a->family == AF_INET ? opt_.ipv4_addresses : opt_.ipv6_addresses;
    auto &r = std::get<Route>(m.object);
    return r.family == AF_INET ? opt_.ipv4_routes : opt_.ipv6_routes;
}

Result<> Monitor::read_events(unsigned budget)
{
    for (unsigned i = 0; budget == 0 || i < budget; ++i) {
        auto got = transport_->receive(Channel::Events, buf_);
        if (!got) {
            if (got.error().code == ENOBUFS) {
                // Messages were dropped: the stream no longer describes the kernel.
                ++overruns_;
                schedule_resync();
                continue;
            }
            // A datagram that did not fit is a message lost as well.
            if (got.error().code == EMSGSIZE)
                schedule_resync();
            return std::unexpected(got.error());
        }
        if (got->status == Status::Again)
            return {};
        if (got->status == Status::Foreign)
            continue;
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        received_us_ = static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
        auto r = parse_stream(std::span(buf_.data(), got->size), [&](Message &&m) {
            if (wanted(m))
                handle_event_message(std::move(m));
        });
        if (!r)
            report(r.error());
    }
    return {};
}

void Monitor::handle_event_message(Message &&m)
{
    if (phase_ != Phase::Idle) {
        // Links and addresses already delivered follow at once; the message is queued all
        // the same, so that replaying the queue onto the route dump sees every change in
        // its order (a link gone takes its routes along).
        if (routes_follow_ && !std::holds_alternative<Route>(m.object))
            deliver(apply(state_, m, opt_.route_filter));
        queued_.push_back(std::move(m));  // replayed onto the dump when it ends
        return;
    }
    deliver(apply(state_, m, opt_.route_filter));
}

void Monitor::schedule_resync()
{
    if (phase_ != Phase::Idle) {
        restart_ = true;  // the running dump may have missed what was lost
        return;
    }
    int enabled = SD_EVENT_OFF;
    sd_event_source_get_enabled(timer_src_.get(), &enabled);
    if (enabled != SD_EVENT_OFF)
        return;  // already due
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    uint64_t due = last_dump_start_ + static_cast<uint64_t>(opt_.min_resync_interval.count());
    arm_timer(std::max(now, due));
}

Result<> Monitor::start_dump()
{
    sd_event_now(event_, CLOCK_MONOTONIC, &last_dump_start_);
    fresh_ = {};
    dump_routes_passed_ = 0;
    queued_.clear();
    restart_ = false;
    routes_follow_ = false;
    phase_ = Phase::Idle;
    return next_phase();
}

Result<> Monitor::next_phase()
{
    for (;;) {
        switch (phase_) {
        case Phase::Idle:
            phase_ = Phase::Links;
            if (opt_.links)
                return send_dump_request(phase_);
            break;
        case Phase::Links:
            phase_ = Phase::Addresses;
            if (opt_.ipv4_addresses || opt_.ipv6_addresses)
                return send_dump_request(phase_);
            break;
        case Phase::Addresses:
            phase_ = Phase::Routes;
            if (opt_.ipv4_routes || opt_.ipv6_routes) {
                if (opt_.routes_after_links && !links_synced_ && !synced_)
                    finish_links();
                return send_dump_request(phase_);
            }
            break;
        case Phase::Routes:
            finish_dump();
            return {};
        }
    }
}

Result<> Monitor::send_dump_request(Phase phase)
{
    DumpRequest req;
    req.seq = ++dump_seq_;
    switch (phase) {
    case Phase::Links:
        req.type = RTM_GETLINK;
        req.family = AF_UNSPEC;
        break;
    case Phase::Addresses:
        req.type = RTM_GETADDR;
        req.family = family_for(opt_.ipv4_addresses, opt_.ipv6_addresses);
        break;
    case Phase::Routes:
        req.type = RTM_GETROUTE;
        req.family = family_for(opt_.ipv4_routes, opt_.ipv6_routes);
        break;
    case Phase::Idle:
        return fail(EINVAL, "no dump for the idle phase");
    }
    return transport_->request_dump(req);
}

Result<> Monitor::read_dump()
{
    for (unsigned i = 0; i < io_budget; ++i) {
        auto got = transport_->receive(Channel::Dump, buf_);
        if (!got)
            return std::unexpected(got.error());
        if (got->status == Status::Again)
            return {};
        if (got->status == Status::Foreign || phase_ == Phase::Idle)
            continue;
        const std::byte *p = buf_.data();
        size_t left = got->size;
        while (left >= sizeof(nlmsghdr)) {
            auto nlh = reinterpret_cast<const nlmsghdr *>(p);
            if (nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > left)
                return fail(EBADMSG, "truncated netlink message in a dump");
            size_t step = std::min<size_t>(NLMSG_ALIGN(nlh->nlmsg_len), left);
            p += step;
            left -= step;
            if (nlh->nlmsg_seq != dump_seq_ || nlh->nlmsg_pid != dump_portid_)
                continue;  // left over from an earlier request
            if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                restart_ = true;  // the kernel says this dump may be inconsistent
            if (nlh->nlmsg_type == NLMSG_DONE)
                return next_phase();
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                nlmsgerr e{};
                if (mnl_nlmsg_get_payload_len(nlh) >= sizeof e)
                    memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof e);
                return fail(e.error < 0 && e.error != INT32_MIN ? -e.error : EIO, "rtnetlink dump failed");
            }
            // Routes the consumer does not keep are passed over unparsed: in a dump
            // nothing is replaced, so there is nothing they could take out of the snapshot.
            if (opt_.route_filter && nlh->nlmsg_type == RTM_NEWROUTE) {
                auto h = route_header(nlh, nlh->nlmsg_len);
                if (h && !opt_.route_filter(*h)) {
                    ++dump_routes_passed_;
                    continue;
                }
            }
            auto m = parse_message(nlh, nlh->nlmsg_len);
            if (!m) {
                report(m.error());
                continue;
            }
            if (*m && wanted(**m))
                apply(fresh_, **m, opt_.route_filter);
        }
    }
    return {};
}

void Monitor::finish_links()
{
    if (auto r = read_events(drain_budget); !r)
        report(r.error());
    if (restart_)
        return;   // the dump starts over once the route dump ends (finish_dump)
    for (const auto &m : queued_)
        if (!std::holds_alternative<Route>(m.object))
            apply(fresh_, m, opt_.route_filter);
    auto events = diff(state_, fresh_);
    state_ = std::move(fresh_);
    fresh_ = {};   // the routes now
    links_synced_ = routes_follow_ = true;
    deliver(events);
    if (cb_.on_links_synced) {
        try {
            cb_.on_links_synced();
        } catch (const std::exception &e) {
            report(Error{EIO, e.what(), {}});
        }
    }
}

void Monitor::finish_dump()
{
    // What is already queued in the event socket happened before now; take it in so the
    // replay below covers everything up to this point.
    if (auto r = read_events(drain_budget); !r)
        report(r.error());
    phase_ = Phase::Idle;
    bool staged = std::exchange(routes_follow_, false);
    if (restart_) {
        restart_ = false;
        queued_.clear();
        fresh_ = {};
        schedule_resync();
        return;
    }
    if (staged) {
        // The route dump onto the links and addresses as followed since they were
        // delivered; the replay below repeats their changes, so only routes differ.
        fresh_.links = state_.links;
        fresh_.addresses = state_.addresses;
    }
    for (const auto &m : queued_)
        apply(fresh_, m, opt_.route_filter);
    queued_.clear();
    auto events = diff(state_, fresh_);
    state_ = std::move(fresh_);
    routes_passed_ = dump_routes_passed_;
    fresh_ = {};
    bool initial = !synced_;
    synced_ = true;
    if (!initial)
        ++resyncs_;
    deliver(events);
    if (cb_.on_synced) {
        try {
            cb_.on_synced(initial);
        } catch (const std::exception &e) {
            report(Error{EIO, e.what(), {}});
        }
    }
}

void Monitor::deliver(const std::vector<Event> &events)
{
    if (!cb_.on_event)
        return;
    for (const auto &e : events) {
        try {
            cb_.on_event(e);
        } catch (const std::exception &ex) {
            report(Error{EIO, ex.what(), {}});
        }
    }
}

void Monitor::report(const Error &e)
{
    if (!cb_.on_error)
        return;
    try {
        cb_.on_error(e);
    } catch (...) {
    }
}

} // namespace alopex::netlink
