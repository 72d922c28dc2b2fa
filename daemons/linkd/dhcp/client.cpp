// SPDX-License-Identifier: GPL-2.0-or-later
#include "client.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>

namespace alopex::dhcp {

namespace {

constexpr int64_t sec = 1'000'000;
constexpr unsigned max_request_tries = 4;
constexpr unsigned max_reboot_tries = 3;
constexpr int64_t min_renew_interval = 60 * sec;
constexpr int64_t first_nak_delay = 2 * sec, max_nak_delay = 64 * sec;

constexpr std::array<std::string_view, 9> state_names = {
    "init", "selecting", "requesting", "bound", "renewing", "rebinding", "init-reboot",
    "rebooting", "stopped"};
static_assert(state_names.size() == size_t(State::stopped) + 1);

// allowed[from] is a bit set of the states `from` may go to.
constexpr uint16_t bit(State s) { return uint16_t(1u << unsigned(s)); }
constexpr std::array<uint16_t, 9> allowed = {
    /* init */ uint16_t(bit(State::selecting) | bit(State::stopped)),
    /* selecting */ uint16_t(bit(State::requesting) | bit(State::init) | bit(State::stopped)),
    /* requesting */ uint16_t(bit(State::bound) | bit(State::init) | bit(State::stopped)),
    /* bound */ uint16_t(bit(State::renewing) | bit(State::init) | bit(State::stopped)),
    /* renewing */
    uint16_t(bit(State::bound) | bit(State::rebinding) | bit(State::init) | bit(State::stopped)),
    /* rebinding */ uint16_t(bit(State::bound) | bit(State::init) | bit(State::stopped)),
    /* init_reboot */ uint16_t(bit(State::rebooting) | bit(State::stopped)),
    /* rebooting */ uint16_t(bit(State::bound) | bit(State::init) | bit(State::stopped)),
    /* stopped */ uint16_t(bit(State::init) | bit(State::init_reboot)),
};

} // namespace

std::string_view to_string(State s)
{
    auto i = size_t(s);
    return i < state_names.size() ? state_names[i] : "?";
}

std::optional<State> state_from_string(std::string_view s)
{
    for (size_t i = 0; i < state_names.size(); ++i)
        if (state_names[i] == s)
            return State(i);
    return std::nullopt;
}

Client::Client(Identity id, std::function<uint32_t()> rng) : id_(std::move(id)), rng_(std::move(rng))
{
}

bool Client::set_state(State to, Actions &out)
{
    if (to == state_)
        return true;
    if (!(allowed[size_t(state_)] & bit(to))) {
        assert(!"impossible DHCP state transition");
        return false;
    }
    out.push_back(StateChanged{state_, to});
    state_ = to;
    return true;
}

void Client::arm(std::optional<int64_t> at, Actions &out)
{
    // A held lease's expiry bounds every deadline, whatever the state.
    if (lease_ && !lease_->infinite())
        at = std::min(at.value_or(std::numeric_limits<int64_t>::max()), lease_->expiry_at());
    timer_ = at;
    out.push_back(ArmTimer{at});
}

int64_t Client::backoff(unsigned tries)
{
    int64_t base = std::min<int64_t>(int64_t(4) << std::min(tries, 4u), 64) * sec;
    int64_t jitter = int64_t(rng_() % 2'000'001u) - sec;
    return base + jitter;
}

uint16_t Client::secs(int64_t now) const
{
    return uint16_t(std::clamp<int64_t>((now - exchange_start_) / sec, 0, 65535));
}

Actions Client::start(int64_t now, std::optional<Lease> persisted)
{
    Actions out;
    if (state_ != State::stopped)
        set_state(State::stopped, out);
    hint_ = persisted ? std::move(persisted) : lease_;
    nak_delay_ = 0;
    if (hint_ && now < hint_->expiry_at()) {
        set_state(State::init_reboot, out);
        xid_ = rng_();
        tries_ = 0;
        exchange_start_ = now;
        offered_ = hint_->address;
        set_state(State::rebooting, out);
        send_request(now, out);
        arm(now + backoff(0), out);
    } else {
        if (lease_)
            lose(out);
        set_state(State::init, out);
        begin_discover(now, out);
    }
    return out;
}

void Client::begin_discover(int64_t now, Actions &out)
{
    set_state(State::init, out);
    xid_ = rng_();
    tries_ = 0;
    exchange_start_ = now;
    set_state(State::selecting, out);
    send_discover(now, out);
    arm(now + backoff(0), out);
}

void Client::send_discover(int64_t now, Actions &out)
{
    std::optional<Ipv4> want;
    if (hint_)
        want = hint_->address;
    out.push_back(SendBroadcast{build_discover(id_, xid_, secs(now), want), 0});
}

void Client::send_request(int64_t now, Actions &out)
{
    if (state_ == State::requesting)
        out.push_back(SendBroadcast{
            build_request(id_, xid_, secs(now), RequestKind::selecting, offered_, server_), 0});
    else if (state_ == State::rebooting)
        out.push_back(SendBroadcast{
            build_request(id_, xid_, secs(now), RequestKind::init_reboot, offered_), 0});
}

void Client::enter_renewing(int64_t now, Actions &out)
{
    set_state(State::renewing, out);
    xid_ = rng_();
    exchange_start_ = now;
    retransmit_renewal(now, out);
}

void Client::enter_rebinding(int64_t now, Actions &out)
{
    set_state(State::rebinding, out);
    retransmit_renewal(now, out);
}

void Client::retransmit_renewal(int64_t now, Actions &out)
{
    const Lease &l = *lease_;
    bool renewing = state_ == State::renewing;
    auto kind = renewing ? RequestKind::renewing : RequestKind::rebinding;
    auto pkt = build_request(id_, xid_, secs(now), kind, l.address);
    if (renewing)
        out.push_back(SendUnicast{std::move(pkt), l.address, l.server_id});
    else
        out.push_back(SendBroadcast{std::move(pkt), l.address});
    int64_t limit = renewing ? l.t2_at() : l.expiry_at();
    int64_t next = now + std::max((limit - now) / 2, min_renew_interval);
    arm(std::min(next, limit), out);
}

void Client::lose(Actions &out)
{
    if (!lease_)
        return;
    out.push_back(LeaseLost{*lease_});
    out.push_back(PersistLease{std::nullopt});
    hint_ = lease_;
    lease_.reset();
}

void Client::bound(const Packet &ack, int64_t now, Actions &out)
{
    Lease fresh = lease_from_ack(ack, exchange_start_ <= now ? exchange_start_ : now);
    bool renewed = lease_ && lease_->address == fresh.address && lease_->prefixlen == fresh.prefixlen;
    if (lease_ && !renewed)
        lose(out);
    lease_ = fresh;
    hint_ = fresh;
    nak_delay_ = 0;
    set_state(State::bound, out);
    out.push_back(LeaseAcquired{fresh, renewed});
    out.push_back(PersistLease{fresh});
    if (fresh.infinite())
        arm(std::nullopt, out);
    else
        arm(fresh.t1_at(), out);
}

void Client::nak(int64_t now, Actions &out)
{
    if (lease_) {
        lose(out);
    } else if (state_ == State::rebooting && hint_) {
        // The persisted lease may still be on the link from before a restart.
        out.push_back(LeaseLost{*hint_});
        out.push_back(PersistLease{std::nullopt});
    }
    hint_.reset();
    set_state(State::init, out);
    nak_delay_ = nak_delay_ ? std::min(nak_delay_ * 2, max_nak_delay) : first_nak_delay;
    arm(now + nak_delay_, out);
}

Result<Actions> Client::on_packet(std::span<const uint8_t> bytes, int64_t now)
{
    if (state_ != State::selecting && state_ != State::requesting && state_ != State::rebooting &&
        state_ != State::renewing && state_ != State::rebinding)
        return failf(EAGAIN, "no exchange in progress (state {})", to_string(state_));
    auto p = parse_reply(bytes, xid_, id_.mac);
    if (!p)
        return std::unexpected(p.error());
    Actions out;
    switch (state_) {
    case State::selecting:
        if (p->type != MessageType::offer)
            return failf(EBADMSG, "{} while selecting", to_string(p->type));
        offered_ = p->yiaddr;
        server_ = *p->server_id;
        tries_ = 0;
        set_state(State::requesting, out);
        send_request(now, out);
        arm(now + backoff(0), out);
        return out;
    case State::requesting:
    case State::rebooting:
        if (p->type == MessageType::offer)
            return failf(EBADMSG, "OFFER while {}", to_string(state_));
        if (state_ == State::requesting && *p->server_id != server_)
            return failf(EBADMSG, "{} from {}, not the selected server {}", to_string(p->type),
                         ip_to_string(*p->server_id), ip_to_string(server_));
        if (p->type == MessageType::nak) {
            nak(now, out);
            return out;
        }
        if (p->yiaddr != offered_)
            return failf(EBADMSG, "ACK for {}, requested {}", ip_to_string(p->yiaddr),
                         ip_to_string(offered_));
        bound(*p, now, out);
        return out;
    default:   // renewing, rebinding
        if (p->type == MessageType::offer)
            return failf(EBADMSG, "OFFER while {}", to_string(state_));
        if (p->type == MessageType::nak)
            nak(now, out);
        else
            bound(*p, now, out);
        return out;
    }
}

Actions Client::on_timer(int64_t now)
{
    Actions out;
    if (lease_ && now >= lease_->expiry_at()) {
        lose(out);
        begin_discover(now, out);
        return out;
    }
    if (!timer_ || now < *timer_) {
        arm(timer_, out);
        return out;
    }
    switch (state_) {
    case State::init:
        begin_discover(now, out);
        break;
    case State::selecting:
        ++tries_;
        send_discover(now, out);
        arm(now + backoff(tries_), out);
        break;
    case State::requesting:
    case State::rebooting:
        if (++tries_ >= (state_ == State::requesting ? max_request_tries : max_reboot_tries)) {
            begin_discover(now, out);
        } else {
            send_request(now, out);
            arm(now + backoff(tries_), out);
        }
        break;
    case State::bound:
        if (now < lease_->t2_at()) {
            enter_renewing(now, out);
            break;
        }
        // T1 and T2 both passed (a suspended machine): straight on to rebinding.
        set_state(State::renewing, out);
        xid_ = rng_();
        exchange_start_ = now;
        enter_rebinding(now, out);
        break;
    case State::renewing:
        if (now >= lease_->t2_at())
            enter_rebinding(now, out);
        else
            retransmit_renewal(now, out);
        break;
    case State::rebinding:
        retransmit_renewal(now, out);
        break;
    case State::init_reboot:
    case State::stopped:
        arm(std::nullopt, out);
        break;
    }
    return out;
}

Actions Client::renew(int64_t now)
{
    Actions out;
    switch (state_) {
    case State::bound:
        enter_renewing(now, out);
        break;
    case State::renewing:
    case State::rebinding:
        retransmit_renewal(now, out);
        break;
    case State::init:
    case State::selecting:
        begin_discover(now, out);
        break;
    default:
        break;
    }
    return out;
}

Actions Client::release(int64_t now)
{
    (void)now;
    Actions out;
    if (lease_) {
        out.push_back(SendUnicast{build_release(id_, rng_(), lease_->address, lease_->server_id),
                                  lease_->address, lease_->server_id});
        lose(out);
    }
    hint_.reset();
    set_state(State::stopped, out);
    arm(std::nullopt, out);
    return out;
}

Actions Client::link_down(int64_t now)
{
    (void)now;
    Actions out;
    set_state(State::stopped, out);
    timer_.reset();
    out.push_back(ArmTimer{std::nullopt});
    return out;
}

} // namespace alopex::dhcp
