// SPDX-License-Identifier: GPL-2.0-or-later
// The Runner: the pure Client driven by sd-event (sockets + one CLOCK_BOOTTIME timer).
#include "io.hpp"

#include <sys/random.h>

#include <exception>

#include "alopex/log.hpp"

namespace alopex::dhcp {

namespace {

uint32_t random_u32()
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != sizeof v)
        v = uint32_t(std::rand());
    return v;
}

} // namespace

Result<std::unique_ptr<Runner>> Runner::create(sd_event *event, Config config, Callbacks cb)
{
    auto name = interface_name(config.ifindex);
    if (!name)
        return std::unexpected(name.error());
    auto mac = interface_mac(*name);
    if (!mac)
        return std::unexpected(mac.error());
    auto raw = PacketSocket::open(config.ifindex);
    if (!raw)
        return std::unexpected(raw.error());
    Identity id{*mac, config.client_id, config.hostname};
    std::unique_ptr<Runner> r(
        new Runner(event, std::move(config), std::move(cb), std::move(id), *name, std::move(*raw)));
    sd_event_source *s = nullptr;
    int rc = sd_event_add_io(event, &s, r->raw_.fd(), EPOLLIN, &Runner::on_raw, r.get());
    if (rc < 0)
        return io_fail(-rc, "sd_event_add_io");
    r->raw_source_.reset(s);
    rc = sd_event_add_time(event, &s, CLOCK_BOOTTIME, UINT64_MAX, 1000, &Runner::on_timer, r.get());
    if (rc < 0)
        return io_fail(-rc, "sd_event_add_time");
    r->timer_source_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return r;
}

Runner::Runner(sd_event *event, Config config, Callbacks cb, Identity id, std::string ifname,
               PacketSocket raw)
    : event_(event), config_(std::move(config)), cb_(std::move(cb)), ifname_(std::move(ifname)),
      client_(std::move(id), config_.rng ? config_.rng : random_u32), raw_(std::move(raw))
{
}

Runner::~Runner() = default;

int64_t Runner::now() const
{
    uint64_t t = 0;
    if (sd_event_now(event_, CLOCK_BOOTTIME, &t) < 0) {
        timespec ts{};
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
    }
    return int64_t(t);
}

void Runner::start(std::optional<Lease> persisted)
{
    if (!persisted && !config_.lease_file.empty()) {
        auto l = read_lease_file(config_.lease_file);
        if (!l)
            log::warning({{"ALOPEX_LINK", ifname_}}, "DHCP: ignoring lease file: {}",
                         l.error().message);
        else
            persisted = std::move(*l);
    }
    execute(client_.start(now(), std::move(persisted)));
}

void Runner::renew() { execute(client_.renew(now())); }
void Runner::release() { execute(client_.release(now())); }
void Runner::link_down() { execute(client_.link_down(now())); }

void Runner::execute(Actions actions)
{
    for (auto &a : actions) {
        if (auto *b = std::get_if<SendBroadcast>(&a)) {
            if (auto r = raw_.send(b->packet, b->source); !r)
                log::warning({{"ALOPEX_LINK", ifname_}}, "DHCP: {}", r.error().message);
        } else if (auto *u = std::get_if<SendUnicast>(&a)) {
            if (!udp_ || udp_->address() != u->source) {
                udp_source_.reset();
                udp_.reset();
                auto s = UdpSocket::open(ifname_, u->source);
                if (s) {
                    udp_ = std::move(*s);
                    sd_event_source *src = nullptr;
                    if (sd_event_add_io(event_, &src, udp_->fd(), EPOLLIN, &Runner::on_udp, this) >= 0)
                        udp_source_.reset(src);
                } else {
                    log::debug({{"ALOPEX_LINK", ifname_}}, "DHCP: {}", s.error().message);
                }
            }
            Result<void> r = udp_ ? udp_->send(u->packet, u->server)
                                  : fail(ENOTCONN, "no UDP socket");
            if (!r) {
                // No usable UDP path (the address is not on the link yet): the same datagram
                // through the packet socket, to the broadcast MAC.
                log::debug({{"ALOPEX_LINK", ifname_}}, "DHCP: unicast failed ({}), via packet socket",
                           r.error().message);
                if (auto r2 = raw_.send(u->packet, u->source, u->server); !r2)
                    log::warning({{"ALOPEX_LINK", ifname_}}, "DHCP: {}", r2.error().message);
            }
        } else if (auto *t = std::get_if<ArmTimer>(&a)) {
            if (t->at_usec) {
                sd_event_source_set_time(timer_source_.get(), uint64_t(std::max<int64_t>(*t->at_usec, 1)));
                sd_event_source_set_enabled(timer_source_.get(), SD_EVENT_ONESHOT);
            } else {
                sd_event_source_set_enabled(timer_source_.get(), SD_EVENT_OFF);
            }
        } else if (auto *acq = std::get_if<LeaseAcquired>(&a)) {
            log::info({{"ALOPEX_LINK", ifname_}}, "DHCP: {} {}/{} from {} for {} s",
                      acq->renewed ? "renewed" : "acquired", ip_to_string(acq->lease.address),
                      acq->lease.prefixlen, ip_to_string(acq->lease.server_id), acq->lease.lease_s);
            if (cb_.on_bound)
                cb_.on_bound(acq->lease, acq->renewed);
        } else if (auto *lost = std::get_if<LeaseLost>(&a)) {
            log::info({{"ALOPEX_LINK", ifname_}}, "DHCP: lease {} lost",
                      ip_to_string(lost->lease.address));
            udp_source_.reset();
            udp_.reset();
            if (cb_.on_lost)
                cb_.on_lost(lost->lease);
        } else if (auto *p = std::get_if<PersistLease>(&a)) {
            if (!config_.lease_file.empty()) {
                auto r = p->lease ? write_lease_file(config_.lease_file, *p->lease)
                                  : remove_lease_file(config_.lease_file);
                if (!r)
                    log::warning({{"ALOPEX_LINK", ifname_}}, "DHCP: {}", r.error().message);
            }
            if (cb_.on_persist)
                cb_.on_persist(p->lease ? &*p->lease : nullptr);
        } else if (auto *sc = std::get_if<StateChanged>(&a)) {
            log::debug({{"ALOPEX_LINK", ifname_}}, "DHCP: {} -> {}", to_string(sc->from),
                       to_string(sc->to));
            if (cb_.on_state)
                cb_.on_state(sc->from, sc->to);
        }
    }
}

void Runner::feed(const std::vector<uint8_t> &payload, const char *via)
{
    auto r = client_.on_packet(payload, now());
    if (!r) {
        log::debug({{"ALOPEX_LINK", ifname_}}, "DHCP: dropped packet from {}: {}", via,
                   r.error().message);
        return;
    }
    execute(std::move(*r));
}

int Runner::on_raw(sd_event_source *, int, uint32_t, void *userdata)
{
    auto *self = static_cast<Runner *>(userdata);
    try {
        for (int i = 0; i < 64; ++i) {
            auto p = self->raw_.receive();
            if (!p) {
                if (p.error().code == EAGAIN || p.error().code == EWOULDBLOCK)
                    break;
                log::debug({{"ALOPEX_LINK", self->ifname_}}, "DHCP: dropped frame: {}",
                           p.error().message);
                continue;
            }
            self->feed(*p, "packet socket");
        }
    } catch (const std::exception &e) {
        log::err("DHCP: {}", e.what());
    }
    return 0;
}

int Runner::on_udp(sd_event_source *, int, uint32_t, void *userdata)
{
    auto *self = static_cast<Runner *>(userdata);
    try {
        for (int i = 0; i < 64 && self->udp_; ++i) {
            auto p = self->udp_->receive();
            if (!p) {
                if (p.error().code == EAGAIN || p.error().code == EWOULDBLOCK)
                    break;
                log::debug({{"ALOPEX_LINK", self->ifname_}}, "DHCP: dropped datagram: {}",
                           p.error().message);
                continue;
            }
            self->feed(*p, "UDP socket");
        }
    } catch (const std::exception &e) {
        log::err("DHCP: {}", e.what());
    }
    return 0;
}

int Runner::on_timer(sd_event_source *, uint64_t, void *userdata)
{
    auto *self = static_cast<Runner *>(userdata);
    try {
        self->execute(self->client_.on_timer(self->now()));
    } catch (const std::exception &e) {
        log::err("DHCP: {}", e.what());
    }
    return 0;
}

} // namespace alopex::dhcp
