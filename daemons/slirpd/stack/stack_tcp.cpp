// SPDX-License-Identifier: GPL-2.0-or-later
// The stack's TCP side: connections by address and port, listeners, the limits, one
// timer index for every connection, idle resets, and freeing connections once closed.
#include <algorithm>

#include "ipv4.hpp"
#include "stack.hpp"
#include "transport.hpp"

namespace alopex::slirp::stack {

namespace {

constexpr uint64_t sweep_interval = 10'000'000;   // idle connections are looked for every 10 s

uint64_t mix(uint64_t x)   // splitmix64's finalizer
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

} // namespace

struct Stack::TcpEntry : tcp::Connection {
    TcpKey key;
    Port listened;
    std::vector<uint8_t> syn_quote;   // while pending: IPv4, the SYN's IP header and 8 octets; IPv6, the SYN
    bool in_timers = false;
    bool waiting_link = false;   // in blocked_
    uint64_t id = 0;
    using tcp::Connection::Connection;
};

Stack::Stack(StackConfig config, Output output, uint32_t isn_secret)
    : config_(config), output_(std::move(output)),
      limiter_(config.limits.new_per_peer, config.limits.new_per_port), isn_secret_(isn_secret)
{
    config_.tcp.mss = static_cast<uint16_t>(std::clamp<size_t>(config_.mtu, 576, 65535) - 40);
    base_tcp_ = config_.tcp;
    owner_.stack = this;
}

void Stack::set_segment_limits(uint16_t mss, uint32_t window)
{
    config_.tcp.mss = mss ? std::min(mss, base_tcp_.mss) : base_tcp_.mss;
    config_.tcp.receive_buffer = window ? std::min(window, base_tcp_.receive_buffer) : base_tcp_.receive_buffer;
}

Stack::~Stack()
{
    for (auto &[k, e] : tcp_)
        e->set_owner(nullptr);
}

void Stack::listen_tcp(const net::Address &address, uint16_t port, TcpAcceptor acceptor)
{
    listeners_[{address, port}] = std::move(acceptor);
}

void Stack::input_tcp(const Ipv4 &ip, std::span<const uint8_t> packet, uint64_t now)
{
    auto t = parse_tcp(ip);
    if (!t) {
        ++stats_.bad_packets;
        return;
    }
    auto quote = packet.first(std::min(packet.size(), ip.header.size() + 8));
    if (!take_tcp(net::Address::v4(ip.src), net::Address::v4(ip.dst), *t, quote, now))
        refuse_tcp(ip, *t);
}

// A segment from src to dst, to its connection or, a SYN, to a listener; false when
// nothing took it (the caller answers with a RST). `quote` is what an ICMP error about
// the SYN would quote.
bool Stack::take_tcp(const net::Address &src, const net::Address &dst, const Tcp &t, std::span<const uint8_t> quote,
                     uint64_t now)
{
    TcpKey key{dst, src, t.dst_port, t.src_port};
    auto it = tcp_.find(key);
    bool new_syn = (t.flags & (tcp_flag::syn | tcp_flag::ack | tcp_flag::rst)) == tcp_flag::syn;
    if (it != tcp_.end() && new_syn && it->second->state() == tcp::State::TimeWait && it->second->detached()) {
        tcp_changed(*it->second);   // a new incarnation (RFC 9293 §3.6.1): the old one goes
        dead_.push_back(key);
        collect();
        it = tcp_.end();
    }
    if (it != tcp_.end()) {
        it->second->input(t, now);
        return true;
    }
    bool listened = listeners_.contains({dst, t.dst_port}) ||
                    (elsewhere_ && dst.is_v4() && dst.v4_number() != config_.address);
    return new_syn && listened && open_tcp(key, t, quote, now);
}

bool Stack::open_tcp(const TcpKey &key, const Tcp &syn, std::span<const uint8_t> quote, uint64_t now)
{
    Port listened{key.local, key.local_port};
    if (per_port_[listened] >= config_.limits.max_per_port || !make_room_for(key)) {
        ++stats_.tcp_limited;
        return false;
    }
    auto d = limiter_.admit(key.remote, key.local, key.local_port, now);
    if (d.verdict != RateLimiter::Verdict::Admit) {
        ++stats_.tcp_rate_limited;
        if (d.verdict == RateLimiter::Verdict::LockedOut) {
            ++stats_.lockouts;
            if (on_lockout_)
                on_lockout_(key.remote, key.local, key.local_port, d.by_port, d.until);
        }
        return false;
    }
    // RFC 6528: a clock (4 µs) plus a keyed function of the connection's identity.
    uint32_t iss = static_cast<uint32_t>(now / 4) +
                   static_cast<uint32_t>(mix(isn_secret_ ^ TcpKeyHash{}(key) ^ (uint64_t{syn.seq} << 32)));
    TcpEntry &ref = add_tcp(key, iss, now);
    ref.listened = listened;
    ref.syn_quote.assign(quote.begin(), quote.end());
    ++per_port_[listened];
    ++stats_.tcp_accepted;
    ref.syn_arrived(syn, now);
    if (auto l = listeners_.find(listened); l != listeners_.end())
        l->second(ref, key);
    else
        elsewhere_(ref, key);
    return true;
}

tcp::Connection *Stack::connect_tcp(const net::Address &dst, uint16_t dst_port, tcp::Events *events, uint64_t now)
{
    constexpr uint32_t first = 49152, count = 65536 - first;   // RFC 6335's dynamic ports
    if (next_port_ == 0)
        next_port_ = static_cast<uint16_t>(first + mix(isn_secret_ ^ now) % count);
    if (!dst.is_v4() && !(dst.is_v6() && address6_)) {
        ++stats_.tcp_limited;
        return nullptr;
    }
    TcpKey key{dst.is_v4() ? net::Address::v4(config_.address) : to_address(*address6_), dst, 0, dst_port};
    for (uint32_t i = 0; i < count && key.local_port == 0; ++i) {
        uint16_t port = next_port_;
        next_port_ = static_cast<uint16_t>(port == 65535 ? first : port + 1);
        key.local_port = port;
        if (tcp_.contains(key) || listeners_.contains({key.local, port}))
            key.local_port = 0;
    }
    if (key.local_port == 0 || !make_room_for(key)) {
        ++stats_.tcp_limited;
        return nullptr;
    }
    uint32_t iss = static_cast<uint32_t>(now / 4) + static_cast<uint32_t>(mix(isn_secret_ ^ TcpKeyHash{}(key)));
    TcpEntry &ref = add_tcp(key, iss, now);
    ref.set_events(events);
    ++stats_.tcp_opened;
    ref.connect(now);
    return &ref;
}

// A new connection with `key` in the table (its segments sent from key.local to
// key.remote), indexed and swept for idleness from now on.
Stack::TcpEntry &Stack::add_tcp(const TcpKey &key, uint32_t iss, uint64_t now)
{
    tcp::Config c = config_.tcp;
    if (key.local.is_v6())   // 20 octets more of IP header: the same frames
        c.mss = static_cast<uint16_t>(std::max<uint16_t>(c.mss, 84) - 20);
    auto e = std::make_unique<TcpEntry>(c, key.local_port, key.remote_port, iss,
                                        [this, src = key.local, dst = key.remote](const Tcp &h,
                                                                                 std::span<const uint8_t> payload) {
                                            send_tcp(src, dst, h, payload);
                                        });
    e->key = key;
    e->id = next_tcp_id_++;
    e->set_owner(&owner_);
    TcpEntry &ref = *e;
    tcp_.emplace(key, std::move(e));
    if (sweep_at_ == 0)
        sweep_at_ = now + sweep_interval;
    return ref;
}

// At the limit, the oldest TIME-WAIT connection whose application is done with it makes
// room; none: no room.
bool Stack::make_room_for(const TcpKey &)
{
    if (tcp_.size() < config_.limits.max_connections)
        return true;
    TcpEntry *oldest = nullptr;
    for (auto &[k, e] : tcp_)
        if (e->state() == tcp::State::TimeWait && e->detached() &&
            (!oldest || e->next_deadline() < oldest->next_deadline()))
            oldest = e.get();
    if (!oldest)
        return false;
    dead_.push_back(oldest->key);
    collect();
    return true;
}

void Stack::unreachable(tcp::Connection &c, uint8_t code)
{
    auto &e = static_cast<TcpEntry &>(c);
    if (e.state() == tcp::State::SynPending && e.key.local.is_v6())
        unreachable6(e.syn_quote, code);
    else if (e.state() == tcp::State::SynPending && !e.syn_quote.empty()) {
        std::vector<uint8_t> rest(4, 0);
        rest.insert(rest.end(), e.syn_quote.begin(), e.syn_quote.end());
        icmp_.clear();
        build_icmp(icmp_, icmp_unreachable, code, rest);
        ++stats_.host_unreachables;
        send(e.key.local.v4_number(), e.key.remote.v4_number(), proto_icmp, icmp_);
    }
    e.discard();   // the ICMP message was the answer: no RST
}

void Stack::TcpOwner::blocked(tcp::Connection &c)
{
    auto &e = static_cast<TcpEntry &>(c);
    if (!e.waiting_link) {
        e.waiting_link = true;
        stack->blocked_.push_back(e.key);
    }
}

bool Stack::TcpOwner::can_send(const tcp::Connection &c) const
{
    return !stack->link_busy_ || !stack->link_busy_(static_cast<const TcpEntry &>(c).key);
}

// The connections that waited, in the order they blocked, each that the link has room
// for now (one that blocks again goes to the back); the others keep waiting.
void Stack::resume_output(uint64_t now)
{
    auto waiting = std::exchange(blocked_, {});
    for (const auto &key : waiting) {
        auto it = tcp_.find(key);
        if (it == tcp_.end())
            continue;
        if (link_busy_ && link_busy_(key)) {
            blocked_.push_back(key);
            continue;
        }
        it->second->waiting_link = false;
        it->second->resume(now);
    }
    collect();
}

void Stack::TcpOwner::changed(tcp::Connection &c)
{
    stack->tcp_changed(static_cast<TcpEntry &>(c));
}

void Stack::tcp_changed(TcpEntry &e)
{
    if (e.state() != tcp::State::SynPending)
        e.syn_quote = {};
    uint64_t next = e.finished() ? UINT64_MAX : e.next_deadline();
    if (e.in_timers && e.indexed_deadline != next) {
        timers_.erase({e.indexed_deadline, &e});
        e.in_timers = false;
    }
    if (!e.in_timers && next != UINT64_MAX) {
        timers_.insert({next, &e});
        e.indexed_deadline = next;
        e.in_timers = true;
    }
    if (e.finished())
        dead_.push_back(e.key);
}

// Frees the connections that finished (never from inside one of their own calls).
void Stack::collect()
{
    while (!dead_.empty()) {
        TcpKey k = dead_.back();
        dead_.pop_back();
        auto it = tcp_.find(k);
        if (it == tcp_.end())
            continue;
        TcpEntry &e = *it->second;
        if (!e.finished() && !(e.state() == tcp::State::TimeWait && e.detached()))
            continue;   // reopened meanwhile, or its application still reads it
        if (e.in_timers)
            timers_.erase({e.indexed_deadline, &e});
        if (auto p = per_port_.find(e.listened); p != per_port_.end() && --p->second == 0)
            per_port_.erase(p);
        add_stats(closed_totals_, e.stats());
        tcp_.erase(it);
    }
    if (tcp_.empty())
        sweep_at_ = 0;
}

tcp::Stats Stack::tcp_totals() const
{
    tcp::Stats t = closed_totals_;
    for (const auto &[key, e] : tcp_)
        add_stats(t, e->stats());
    return t;
}

uint64_t Stack::next_deadline() const
{
    uint64_t next = timers_.empty() ? UINT64_MAX : timers_.begin()->first;
    return sweep_at_ ? std::min(next, sweep_at_) : next;
}

void Stack::advance(uint64_t now)
{
    collect();
    while (!timers_.empty() && timers_.begin()->first <= now) {
        TcpEntry *e = timers_.begin()->second;
        timers_.erase(timers_.begin());
        e->in_timers = false;
        e->advance(now);
        if (!e->in_timers && !e->finished())
            tcp_changed(*e);   // advance() reports every change, but a timer that did not move stays due
    }
    if (sweep_at_ && now >= sweep_at_)
        sweep_idle(now);
    collect();
}

void Stack::sweep_idle(uint64_t now)
{
    sweep_at_ = now + sweep_interval;
    std::vector<TcpEntry *> idle;
    for (auto &[k, e] : tcp_)
        if (e->state() != tcp::State::TimeWait && e->state() != tcp::State::SynPending &&
            now - e->last_activity() >= config_.limits.idle_timeout)
            idle.push_back(e.get());
    for (TcpEntry *e : idle) {
        ++stats_.tcp_idle_resets;
        e->kill(tcp::CloseReason::Timeout);
    }
}

void Stack::each_tcp(const std::function<void(const TcpKey &, uint64_t, const tcp::Connection &)> &f) const
{
    for (const auto &[k, e] : tcp_)
        f(k, e->id, *e);
}

tcp::Connection *Stack::find_tcp(uint64_t id)
{
    for (auto &[k, e] : tcp_)
        if (e->id == id && !e->finished())
            return e.get();
    return nullptr;
}

void Stack::unlisten_tcp(const net::Address &address, uint16_t port)
{
    listeners_.erase({address, port});
}

tcp::Connection *Stack::find_tcp(const TcpKey &k)
{
    auto it = tcp_.find(k);
    return it == tcp_.end() ? nullptr : it->second.get();
}

} // namespace alopex::slirp::stack
