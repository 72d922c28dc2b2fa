// SPDX-License-Identifier: GPL-2.0-or-later
#include "udp_forwarder.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "alopex/log.hpp"

namespace alopex::slirp {

UdpForwarder::UdpForwarder(sd_event *event, stack::Stack &stack, size_t max_flows, uint64_t idle_timeout_usec,
                           std::function<void()> kick)
    : event_(event), stack_(stack), max_flows_(max_flows), idle_timeout_(idle_timeout_usec), kick_(std::move(kick))
{
}

UdpForwarder::~UdpForwarder() = default;

void UdpForwarder::add(const PortMap &map)
{
    stack_.bind_udp(map.address, map.port,
                    [this, map](const net::Address &src, uint16_t sport, std::span<const uint8_t> p) {
                        datagram(map, src, sport, p);
                    });
}

void UdpForwarder::remove(const net::Address &address, uint16_t port)
{
    stack_.unbind_udp(address, port);
    std::erase_if(flows_, [&](const auto &f) { return std::get<2>(f.first) == address && std::get<3>(f.first) == port; });
}

uint64_t UdpForwarder::now() const
{
    uint64_t n = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &n);
    return n;
}

void UdpForwarder::datagram(const PortMap &map, const net::Address &src, uint16_t sport,
                            std::span<const uint8_t> payload)
{
    Key key{src, sport, map.address, map.port};
    auto it = flows_.find(key);
    Flow *f = it != flows_.end() ? it->second.get() : open(key, map.target);
    if (!f)
        return;
    f->last_used = now();
    if (::send(f->fd.get(), payload.data(), payload.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        ++stats_.errors;
    else
        ++stats_.datagrams_out;
}

UdpForwarder::Flow *UdpForwarder::open(const Key &key, const HostTarget &target)
{
    if (flows_.size() >= max_flows_) {
        auto lru = flows_.begin();
        for (auto it = flows_.begin(); it != flows_.end(); ++it)
            if (it->second->last_used < lru->second->last_used)
                lru = it;
        ++stats_.flows_evicted;
        flows_.erase(lru);
    }
    auto f = std::make_unique<Flow>();
    f->owner = this;
    f->key = key;
    sockaddr_storage ss{};
    socklen_t len = net::to_sockaddr(target.inet, ss);
    f->fd.reset(::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!f->fd || ::connect(f->fd.get(), reinterpret_cast<const sockaddr *>(&ss), len) < 0) {
        log::info("UDP to {}: {}", target.to_string(), strerror(errno));
        ++stats_.errors;
        return nullptr;
    }
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_io(event_, &s, f->fd.get(), EPOLLIN, on_readable, f.get()); r < 0) {
        ++stats_.errors;
        return nullptr;
    }
    f->io.reset(s);
    ++stats_.flows_opened;
    Flow *raw = f.get();
    flows_.emplace(key, std::move(f));
    arm_sweep();
    return raw;
}

int UdpForwarder::on_readable(sd_event_source *, int fd, uint32_t, void *userdata) noexcept
{
    auto *f = static_cast<Flow *>(userdata);
    UdpForwarder *self = f->owner;
    auto [peer, peer_port, addr, port] = f->key;
    uint8_t buf[65536];
    for (int i = 0; i < 64; ++i) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                ++self->stats_.errors;   // e.g. ECONNREFUSED: the target's port unreachable
            break;
        }
        f->last_used = self->now();
        if (self->stack_.send_udp(addr, port, peer, peer_port, std::span<const uint8_t>(buf, static_cast<size_t>(n))))
            ++self->stats_.datagrams_in;
        else
            ++self->stats_.errors;
    }
    self->kick_();
    return 0;
}

void UdpForwarder::arm_sweep()
{
    if (sweep_) {
        sd_event_source_set_enabled(sweep_.get(), SD_EVENT_ON);
        return;
    }
    sd_event_source *s = nullptr;
    uint64_t period = std::max<uint64_t>(idle_timeout_ / 4, 1'000'000);
    if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, period, 100'000, on_sweep, this) >= 0) {
        sweep_.reset(s);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
    }
}

int UdpForwarder::on_sweep(sd_event_source *s, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<UdpForwarder *>(userdata);
    uint64_t now = self->now();
    std::vector<Key> idle;
    for (const auto &[k, f] : self->flows_)
        if (now - f->last_used >= self->idle_timeout_)
            idle.push_back(k);
    for (const auto &k : idle) {
        ++self->stats_.flows_expired;
        self->flows_.erase(k);
    }
    if (self->flows_.empty()) {
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
    } else {
        sd_event_source_set_time_relative(s, std::max<uint64_t>(self->idle_timeout_ / 4, 1'000'000));
        sd_event_source_set_enabled(s, SD_EVENT_ON);
    }
    return 0;
}

} // namespace alopex::slirp
