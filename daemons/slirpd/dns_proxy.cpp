// SPDX-License-Identifier: GPL-2.0-or-later
#include "dns_proxy.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "alopex/log.hpp"

namespace alopex::slirp {

namespace {

constexpr size_t dns_header = 12;
constexpr uint16_t dns_port = 53;

} // namespace

DnsProxy::~DnsProxy() = default;

Result<std::unique_ptr<DnsProxy>> DnsProxy::create(sd_event *event, stack::Stack &stack,
                                                   const net::Address &local, std::vector<net::Address> upstreams,
                                                   Limits limits)
{
    std::unique_ptr<DnsProxy> p(new DnsProxy(event, stack, std::move(upstreams), limits));
    p->listen_on(local);
    return p;
}

void DnsProxy::listen_on(const net::Address &local)
{
    stack_.bind_udp(local, dns_port, [this, local](const net::Address &src, uint16_t port,
                                                   std::span<const uint8_t> payload) {
        query(local, src, port, payload);
    });
}

void DnsProxy::query(const net::Address &local, const net::Address &peer, uint16_t port,
                     std::span<const uint8_t> payload)
{
    ++stats_.queries;
    if (payload.size() < dns_header || upstreams_.empty() || pending_.size() >= limits_.max_pending) {
        ++stats_.dropped;
        return;
    }
    auto q = std::make_unique<Query>();
    q->proxy = this;
    q->key = next_key_++;
    q->local = local;
    q->peer = peer;
    q->peer_port = port;
    q->payload.assign(payload.begin(), payload.end());
    Query &ref = *q;
    pending_.emplace(q->key, std::move(q));
    while (ref.upstream < upstreams_.size() && !ask(ref))
        ++ref.upstream;
    if (ref.upstream >= upstreams_.size()) {
        ++stats_.dropped;
        finish(ref.key);
    }
}

bool DnsProxy::ask(Query &q)
{
    const net::Address &up = upstreams_[q.upstream];
    q.io.reset();
    q.timer.reset();
    q.fd = Fd(socket(up.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_storage ss{};
    socklen_t len = net::to_sockaddr(net::Endpoint{up, dns_port}, ss);
    if (q.fd.get() < 0 || connect(q.fd.get(), reinterpret_cast<sockaddr *>(&ss), len) < 0 ||
        send(q.fd.get(), q.payload.data(), q.payload.size(), 0) < 0) {
        log::debug("DNS proxy: {}: {}", up.to_string(), strerror(errno));
        return false;
    }
    sd_event_source *s = nullptr;
    if (sd_event_add_io(event_, &s, q.fd.get(), EPOLLIN, on_answer, &q) < 0)
        return false;
    q.io.reset(s);
    if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, limits_.timeout_usec, 10'000, on_timeout, &q) < 0)
        return false;
    q.timer.reset(s);
    return true;
}

void DnsProxy::finish(uint64_t key) { pending_.erase(key); }

int DnsProxy::on_answer(sd_event_source *, int fd, uint32_t, void *userdata) noexcept
{
    auto &q = *static_cast<Query *>(userdata);
    DnsProxy *self = q.proxy;
    uint8_t buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n < 0) {   // refused (ICMP port unreachable) or unreachable: the next upstream now
        self->next_upstream(q);
        return 0;
    }
    // Not an answer to this query (the ID is the first two octets of both): wait on.
    if (n < static_cast<ssize_t>(dns_header) || buf[0] != q.payload[0] || buf[1] != q.payload[1])
        return 0;
    if (self->stack_.send_udp(q.local, dns_port, q.peer, q.peer_port,
                              std::span<const uint8_t>(buf, static_cast<size_t>(n))))
        ++self->stats_.answers;
    else
        ++self->stats_.dropped;   // larger than the link's MTU
    self->finish(q.key);
    return 0;
}

int DnsProxy::on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto &q = *static_cast<Query *>(userdata);
    ++q.proxy->stats_.timeouts;
    q.proxy->next_upstream(q);
    return 0;
}

void DnsProxy::next_upstream(Query &q)
{
    for (++q.upstream; q.upstream < upstreams_.size(); ++q.upstream)
        if (ask(q))
            return;
    finish(q.key);   // given up: the peer's resolver asks again
}

} // namespace alopex::slirp
