// SPDX-License-Identifier: GPL-2.0-or-later
// The DHCPv4 client state machine (RFC 2131 figure 5), pure: no sockets, no clock, no
// logging. Every input takes the current time (microseconds of one monotonic clock, the
// "client clock"; the Runner uses CLOCK_BOOTTIME) and returns the actions to carry out in
// order. One timer at a time: each ArmTimer replaces the previous deadline.
//
// Retransmission (RFC 2131 4.1): 4, 8, 16, 32, 64, 64... s, each +-1 s of jitter from the
// injected RNG. REQUESTING gives up after 4 transmissions, REBOOTING after 3, and both fall
// back to INIT. RENEWING/REBINDING retransmit at half the time left to T2/expiry, at least
// 60 s apart. A NAK sends the client to INIT for 2 s, doubling per consecutive NAK up to
// 64 s. Expiry (checked on every timer, in any state) loses the lease and restarts INIT.
// No ARP probe of the offered address is made (no DECLINE).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "lease.hpp"
#include "packet.hpp"

namespace alopex::dhcp {

enum class State : uint8_t {
    init, selecting, requesting, bound, renewing, rebinding, init_reboot, rebooting, stopped,
};
std::string_view to_string(State s);
std::optional<State> state_from_string(std::string_view s);

// Broadcast from 0.0.0.0 (or `source` when rebinding) through the packet socket.
struct SendBroadcast { std::vector<uint8_t> packet; Ipv4 source = 0; };
// Unicast UDP from the leased address to the server (renewal, release).
struct SendUnicast { std::vector<uint8_t> packet; Ipv4 source = 0; Ipv4 server = 0; };
// Replace the one timer; nullopt disarms it. Absolute time in the client clock.
struct ArmTimer { std::optional<int64_t> at_usec; };
// Apply address, routes (Lease::effective_routes), DNS, MTU. `renewed`: same address as
// before, only the times changed.
struct LeaseAcquired { Lease lease; bool renewed = false; };
// Remove what the lease applied.
struct LeaseLost { Lease lease; };
// Write (or with nullopt delete) the state file.
struct PersistLease { std::optional<Lease> lease; };
struct StateChanged { State from, to; };

using Action = std::variant<SendBroadcast, SendUnicast, ArmTimer, LeaseAcquired, LeaseLost,
                            PersistLease, StateChanged>;
using Actions = std::vector<Action>;

class Client {
public:
    // rng: uniform 32-bit values (xids and jitter).
    Client(Identity id, std::function<uint32_t()> rng);

    // Starts (or restarts after link_down/stop/release): with a lease that has not expired,
    // INIT-REBOOT; otherwise INIT. Without an argument, a lease still held is reused.
    Actions start(int64_t now, std::optional<Lease> persisted = std::nullopt);
    // A received DHCP payload (UDP data). An Error means dropped, with the reason.
    Result<Actions> on_packet(std::span<const uint8_t> bytes, int64_t now);
    // The armed timer fired (a call before the deadline does nothing but re-arm).
    Actions on_timer(int64_t now);
    // Renew now: BOUND enters RENEWING, RENEWING/REBINDING retransmit, INIT/SELECTING
    // restart discovery.
    Actions renew(int64_t now);
    // RELEASE to the server (if a lease is held), lease lost, state file deleted, STOPPED.
    Actions release(int64_t now);
    // Carrier gone: stop sending and timing, keep the lease for start() (INIT-REBOOT).
    Actions link_down(int64_t now);

    State state() const { return state_; }
    const std::optional<Lease> &lease() const { return lease_; }
    std::optional<int64_t> timer() const { return timer_; }
    uint32_t xid() const { return xid_; }
    const Identity &identity() const { return id_; }

private:
    bool set_state(State to, Actions &out);
    void arm(std::optional<int64_t> at, Actions &out);
    int64_t backoff(unsigned tries);
    uint16_t secs(int64_t now) const;

    void begin_discover(int64_t now, Actions &out);
    void send_discover(int64_t now, Actions &out);
    void send_request(int64_t now, Actions &out);
    void enter_renewing(int64_t now, Actions &out);
    void enter_rebinding(int64_t now, Actions &out);
    void retransmit_renewal(int64_t now, Actions &out);
    void bound(const Packet &ack, int64_t now, Actions &out);
    void nak(int64_t now, Actions &out);
    void lose(Actions &out);

    Identity id_;
    std::function<uint32_t()> rng_;
    State state_ = State::stopped;
    std::optional<Lease> lease_;     // acquired (applied by the caller)
    std::optional<Lease> hint_;      // persisted/old lease: INIT-REBOOT, option 50
    std::optional<int64_t> timer_;
    uint32_t xid_ = 0;
    unsigned tries_ = 0;
    int64_t exchange_start_ = 0;     // first transmission of this exchange
    Ipv4 offered_ = 0, server_ = 0;  // from the OFFER being requested
    int64_t nak_delay_ = 0;
};

} // namespace alopex::dhcp
