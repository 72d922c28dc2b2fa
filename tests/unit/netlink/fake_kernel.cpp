// SPDX-License-Identifier: GPL-2.0-or-later
#include "fake_kernel.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <catch2/catch.hpp>

namespace alopex::netlink::test {
namespace {

using Channel = Transport::Channel;

class FakeTransport final : public Transport {
public:
    explicit FakeTransport(FakeKernel &k) : k_(k) {}
    int fd(Channel c) const noexcept override { return k_.fd(c); }
    uint32_t dump_portid() const noexcept override { return FakeKernel::portid; }
    int receive_buffer() const noexcept override { return 0; }
    Result<> subscribe(std::span<const unsigned> groups) override { return k_.subscribe(groups); }
    Result<> request_dump(const DumpRequest &r) override { return k_.request_dump(r); }
    Result<Received> receive(Channel c, std::span<std::byte> buf) override { return k_.receive(c, buf); }

private:
    FakeKernel &k_;
};

Message parse(const Msg &m)
{
    auto r = parse_message(m.nlh, m.len());
    if (!r || !*r)
        throw std::logic_error("fake kernel: not a message the monitor models");
    return std::move(**r);
}

unsigned group_of(const Object &o)
{
    if (std::holds_alternative<Link>(o))
        return RTNLGRP_LINK;
    if (auto a = std::get_if<Address>(&o))
        return a->family == AF_INET ? RTNLGRP_IPV4_IFADDR : RTNLGRP_IPV6_IFADDR;
    return std::get<Route>(o).family == AF_INET ? RTNLGRP_IPV4_ROUTE : RTNLGRP_IPV6_ROUTE;
}

uint16_t new_type(const Object &o)
{
    return std::holds_alternative<Link>(o) ? RTM_NEWLINK : std::holds_alternative<Address>(o) ? RTM_NEWADDR : RTM_NEWROUTE;
}

void append(std::vector<std::byte> &out, const nlmsghdr *nlh)
{
    auto p = reinterpret_cast<const std::byte *>(nlh);
    out.insert(out.end(), p, p + nlh->nlmsg_len);
    out.resize(NLMSG_ALIGN(out.size()));
}

template <typename K>
bool take(const std::map<K, Msg> &table, std::variant<std::monostate, int, AddressKey, RouteKey> &cursor, size_t max,
          uint8_t family, const std::function<void(const Msg &)> &put)
{
    auto it = std::holds_alternative<K>(cursor) ? table.upper_bound(std::get<K>(cursor)) : table.begin();
    for (size_t n = 0; it != table.end() && n < max; ++it) {
        auto f = *static_cast<const uint8_t *>(mnl_nlmsg_get_payload(it->second.nlh));
        if (family != AF_UNSPEC && f != family)
            continue;
        put(it->second);
        cursor = it->first;
        ++n;
    }
    return it == table.end();
}

} // namespace

Object object_of(const Msg &m) { return parse(m).object; }

FakeKernel::FakeKernel(sd_event *event)
    : event_(event), events_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), dump_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (!events_fd_ || !dump_fd_)
        throw std::runtime_error("eventfd failed");
}

FakeKernel::~FakeKernel() = default;

std::unique_ptr<Transport> FakeKernel::transport() { return std::make_unique<FakeTransport>(*this); }

int FakeKernel::fd(Channel c) const noexcept { return c == Channel::Events ? events_fd_.get() : dump_fd_.get(); }

bool FakeKernel::joined(unsigned group) const { return std::ranges::find(groups, group) != groups.end(); }

size_t FakeKernel::dumps(uint16_t type) const
{
    const char *name = type == RTM_GETLINK ? "dump link" : type == RTM_GETADDR ? "dump addr" : "dump route";
    return static_cast<size_t>(std::ranges::count(calls, std::string(name)));
}

void FakeKernel::update(Channel c)
{
    bool ready = c == Channel::Events ? !events_q_.empty() : !dump_q_.empty();
    int fd = this->fd(c);
    uint64_t v = 1;
    if (ready) {
        if (write(fd, &v, sizeof v) != sizeof v)
            throw std::runtime_error("eventfd write failed");
    } else {
        (void)!read(fd, &v, sizeof v);  // EAGAIN when already clear
    }
}

void FakeKernel::change(const Msg &m, bool notify)
{
    Message msg = parse(m);
    Msg stored(m);
    stored.nlh->nlmsg_type = new_type(msg.object);
    if (auto l = std::get_if<Link>(&msg.object)) {
        links_.erase(l->ifindex);
        if (msg.removed) {
            // The kernel takes the link's addresses and routes along.
            std::erase_if(addresses_, [&](const auto &kv) { return kv.first.ifindex == l->ifindex; });
            std::erase_if(routes_, [&](const auto &kv) { return kv.first.oif == l->ifindex; });
        } else {
            links_.emplace(l->ifindex, stored);
        }
    } else if (auto a = std::get_if<Address>(&msg.object)) {
        addresses_.erase(key_of(*a));
        if (!msg.removed)
            addresses_.emplace(key_of(*a), stored);
    } else {
        auto &r = std::get<Route>(msg.object);
        routes_.erase(key_of(r));
        if (!msg.removed)
            routes_.emplace(key_of(r), stored);
    }
    if (!notify || !joined(group_of(msg.object)))
        return;
    Msg ev(m);
    ev.nlh->nlmsg_seq = ++event_seq_;
    ev.nlh->nlmsg_pid = 0;
    std::vector<std::byte> bytes;
    append(bytes, ev.nlh);
    events_q_.emplace_back(std::move(bytes));
    update(Channel::Events);
}

void FakeKernel::overrun()
{
    events_q_.emplace_back(ENOBUFS);
    update(Channel::Events);
}

void FakeKernel::raw_event(std::span<const std::byte> bytes)
{
    events_q_.emplace_back(std::vector<std::byte>(bytes.begin(), bytes.end()));
    update(Channel::Events);
}

Snapshot FakeKernel::snapshot() const
{
    Snapshot s;
    for (const auto &[k, m] : links_)
        apply(s, parse(m));
    for (const auto &[k, m] : addresses_)
        apply(s, parse(m));
    for (const auto &[k, m] : routes_)
        apply(s, parse(m));
    return s;
}

Result<> FakeKernel::subscribe(std::span<const unsigned> g)
{
    groups.insert(groups.end(), g.begin(), g.end());
    calls.emplace_back("subscribe");
    if (after_call)
        after_call(calls.back());
    return {};
}

Result<> FakeKernel::request_dump(const DumpRequest &r)
{
    if (dump_)
        return fail(EBUSY, "fake kernel: a dump is already running");
    const char *name = r.type == RTM_GETLINK ? "dump link" : r.type == RTM_GETADDR ? "dump addr" : "dump route";
    if (r.type != RTM_GETLINK && r.type != RTM_GETADDR && r.type != RTM_GETROUTE)
        return fail(EOPNOTSUPP, "fake kernel: unknown dump type");
    calls.emplace_back(name);
    if (r.type == RTM_GETLINK) {
        uint64_t now = 0;
        sd_event_now(event_, CLOCK_MONOTONIC, &now);
        link_dump_times.push_back(now);
    }
    dump_ = Dump{r, 0, {}, false};
    produce();  // the kernel fills the first datagram before sendmsg() returns
    if (after_call)
        after_call(calls.back());
    return {};
}

void FakeKernel::produce()
{
    if (!dump_ || dump_->done)
        return;
    if (before_part)
        before_part(dump_->req.type, dump_->part);
    uint16_t flags = NLM_F_MULTI | (intr_next_ ? NLM_F_DUMP_INTR : 0);
    intr_next_ = false;
    std::vector<std::byte> out;
    auto put = [&](const Msg &m) {
        Msg c(m);
        c.nlh->nlmsg_seq = dump_->req.seq;
        c.nlh->nlmsg_pid = portid;
        c.nlh->nlmsg_flags = flags;
        append(out, c.nlh);
    };
    bool end = false;
    switch (dump_->req.type) {
    case RTM_GETLINK:
        end = take(links_, dump_->cursor, per_part, AF_UNSPEC, put);
        break;
    case RTM_GETADDR:
        end = take(addresses_, dump_->cursor, per_part, dump_->req.family, put);
        break;
    default:
        end = take(routes_, dump_->cursor, per_part, dump_->req.family, put);
        break;
    }
    if (end) {
        Msg done(NLMSG_DONE, flags);
        *static_cast<int32_t *>(mnl_nlmsg_put_extra_header(done.nlh, sizeof(int32_t))) = 0;
        done.nlh->nlmsg_seq = dump_->req.seq;
        done.nlh->nlmsg_pid = portid;
        append(out, done.nlh);
        dump_->done = true;
    }
    ++dump_->part;
    dump_q_.push_back(std::move(out));
    update(Channel::Dump);
}

Result<Transport::Received> FakeKernel::receive(Channel c, std::span<std::byte> buf)
{
    std::vector<std::byte> data;
    if (c == Channel::Events) {
        if (events_q_.empty())
            return Transport::Received{Transport::Status::Again, 0};
        Item item = std::move(events_q_.front());
        events_q_.pop_front();
        update(c);
        if (auto e = std::get_if<int>(&item))
            return failf(*e, "fake kernel: injected error {}", *e);
        data = std::move(std::get<std::vector<std::byte>>(item));
    } else {
        if (dump_q_.empty())
            return Transport::Received{Transport::Status::Again, 0};
        data = std::move(dump_q_.front());
        dump_q_.pop_front();
        if (dump_ && dump_->done && dump_q_.empty())
            dump_.reset();
        else
            produce();  // the kernel refills as the reader drains
        update(c);
    }
    if (data.size() > buf.size())
        return fail(EMSGSIZE, "fake kernel: datagram truncated");
    std::ranges::copy(data, buf.begin());
    return Transport::Received{Transport::Status::Data, data.size()};
}

bool FakeKernel::idle() const { return events_q_.empty() && dump_q_.empty() && !dump_; }

// Consumer

namespace {

bool same_key(const Object &a, const Object &b)
{
    if (a.index() != b.index())
        return false;
    if (auto l = std::get_if<Link>(&a))
        return l->ifindex == std::get<Link>(b).ifindex;
    if (auto x = std::get_if<Address>(&a))
        return key_of(*x) == key_of(std::get<Address>(b));
    return key_of(std::get<Route>(a)) == key_of(std::get<Route>(b));
}

} // namespace

void Consumer::on(const Event &e)
{
    log.push_back(e);
    fold(s, e);
}

size_t Consumer::count(const Object &o, std::optional<Change> c) const
{
    return static_cast<size_t>(std::ranges::count_if(
        log, [&](const Event &e) { return (!c || e.change == *c) && same_key(e.object, o); }));
}

// Rig

Rig::Rig()
{
    sd_event *e = nullptr;
    if (sd_event_new(&e) < 0)
        throw std::runtime_error("sd_event_new failed");
    ev.reset(e);
    kernel = std::make_unique<FakeKernel>(ev.get());
}

void Rig::start(MonitorOptions opt)
{
    // One idle iteration caches the loop's timestamp, so the monitor and the fake kernel
    // read the same sd_event_now() for the first dump.
    sd_event_run(ev.get(), 0);
    MonitorCallbacks cb;
    cb.on_event = [this](const Event &x) {
        bool live = mon && mon->links_synced() && !mon->synced() && !std::holds_alternative<Route>(x.object);
        if (mon && mon->dumping())
            ++(live ? consumer.live_during_dump : consumer.during_dump);
        consumer.on(x);
    };
    cb.on_links_synced = [this] {
        ++consumer.links_synced;
        consumer.live_during_dump = 0;   // the first delivery of links and addresses is not live
        if (consumer.at_links_synced)
            consumer.at_links_synced();
    };
    cb.on_synced = [this](bool initial) {
        ++consumer.synced;
        consumer.initial_synced += initial;
    };
    cb.on_error = [this](const Error &x) { errors.push_back(x); };
    auto m = Monitor::create(ev.get(), std::move(opt), std::move(cb), kernel->transport());
    REQUIRE(m.has_value());
    mon = std::move(*m);
}

bool Rig::run_until(const std::function<bool()> &pred, int timeout_ms)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        sd_event_run(ev.get(), 10'000);
    }
    return true;
}

bool Rig::settle(int timeout_ms)
{
    return run_until(
        [&] {
            while (sd_event_run(ev.get(), 0) > 0) {
            }
            return mon->synced() && !mon->resync_pending() && kernel->idle();
        },
        timeout_ms);
}

} // namespace alopex::netlink::test
