// SPDX-License-Identifier: GPL-2.0-or-later
// The option negotiation automaton of RFC 1661 §4, shared by LCP and IPCP (and the NCPs
// that follow), pure: events in, actions out through Hooks, no clock of its own.
//
// transition() is the RFC's state transition table, every state and event: the next
// state and the actions in the order the RFC lists them ("-" cells, events that cannot
// occur in a state, change nothing and are reported as illegal). Automaton runs it with
// the restart counter and the restart timer: the caller arms a timer while
// timer_running() is true and calls timeout() when it expires (TO+ while the counter is
// above zero, TO- when it has run out). What a Configure-Request holds and whether a
// received one is acceptable (RCR+ or RCR-) is the protocol's business, not this one's.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>

namespace alopex::slirp::ppp {

enum class State : uint8_t { Initial, Starting, Closed, Stopped, Closing, Stopping, ReqSent, AckRcvd, AckSent, Opened };
inline constexpr int state_count = 10;
std::string_view to_string(State s);

enum class Event : uint8_t {
    Up,        // lower layer is up
    Down,      // lower layer is down
    Open,      // administrative open
    Close,     // administrative close
    ToPlus,    // timeout with the restart counter > 0
    ToMinus,   // timeout with the restart counter expired
    RcrPlus,   // receive Configure-Request, acceptable
    RcrMinus,  // receive Configure-Request, not acceptable (Nak or Reject it)
    Rca,       // receive Configure-Ack
    Rcn,       // receive Configure-Nak or Configure-Reject
    Rtr,       // receive Terminate-Request
    Rta,       // receive Terminate-Ack
    Ruc,       // receive unknown code
    RxjPlus,   // receive Code-Reject or Protocol-Reject, permitted
    RxjMinus,  // receive Code-Reject or Protocol-Reject, catastrophic
    Rxr,       // receive Echo-Request, Echo-Reply or Discard-Request
};
inline constexpr int event_count = 16;
std::string_view to_string(Event e);

// RFC 1661 §4.4's actions.
enum Action : uint16_t {
    Tld = 1 << 0,   // this layer down
    Tlu = 1 << 1,   // this layer up
    Tls = 1 << 2,   // this layer started
    Tlf = 1 << 3,   // this layer finished
    Irc = 1 << 4,   // initialize the restart counter
    Zrc = 1 << 5,   // zero the restart counter
    Scr = 1 << 6,   // send Configure-Request
    Sca = 1 << 7,   // send Configure-Ack
    Scn = 1 << 8,   // send Configure-Nak or Configure-Reject
    Str = 1 << 9,   // send Terminate-Request
    Sta = 1 << 10,  // send Terminate-Ack
    Scj = 1 << 11,  // send Code-Reject
    Ser = 1 << 12,  // send Echo-Reply
};

struct Transition {
    State next;
    std::array<Action, 3> actions{};   // in the RFC's order (sca before tlu); 0 ends the list
    bool legal = true;
    bool has(Action a) const
    {
        for (Action x : actions)
            if (x == a)
                return true;
        return false;
    }
};

// The table (RFC 1661 §4.1). The RFC's optional restart ("r": Down then Up on Open in
// Stopped, Closing, Stopping and Opened) is not taken: the state stays.
Transition transition(State s, Event e);

// Whether the restart timer runs in `s` (Closing, Stopping, Req-Sent, Ack-Rcvd, Ack-Sent).
bool timer_runs_in(State s);

struct AutomatonLimits {
    int max_terminate = 2;    // RFC 1661 §4.6 defaults
    int max_configure = 10;
    int max_failure = 5;      // Configure-Naks before the protocol Rejects instead
};

// Called in the order of the actions; all optional. scr/scn/sca/str/sta/scj/ser are sends
// the protocol builds; tl* tell the layer above.
struct AutomatonHooks {
    std::function<void()> this_layer_up, this_layer_down, this_layer_started, this_layer_finished;
    std::function<void()> send_configure_request, send_configure_ack, send_configure_nak;
    std::function<void()> send_terminate_request, send_terminate_ack, send_code_reject, send_echo_reply;
};

class Automaton {
public:
    using Limits = AutomatonLimits;
    using Hooks = AutomatonHooks;

    explicit Automaton(Hooks hooks, Limits limits = {}) : hooks_(std::move(hooks)), limits_(limits) {}

    // Runs one event; false when the RFC says it cannot occur in this state (nothing done).
    bool event(Event e);
    // The restart timer expired: TO+ or TO-, by the counter.
    void timeout() { event(restart_counter_ > 0 ? Event::ToPlus : Event::ToMinus); }

    State state() const noexcept { return state_; }
    bool timer_running() const noexcept { return timer_runs_in(state_); }
    int restart_counter() const noexcept { return restart_counter_; }
    // Configure-Naks sent in a row (the protocol Rejects once it reaches max_failure).
    int failures() const noexcept { return failures_; }
    bool reject_instead_of_nak() const noexcept { return failures_ >= limits_.max_failure; }
    // Increases each time the timer is (re)started: the caller restarts its timer when
    // this changes, even if timer_running() stayed true.
    uint64_t timer_generation() const noexcept { return timer_generation_; }

private:
    void run(const Transition &t);
    void restart_timer() { ++timer_generation_; }

    Hooks hooks_;
    Limits limits_;
    State state_ = State::Initial;
    int restart_counter_ = 0;
    int failures_ = 0;
    uint64_t timer_generation_ = 0;
};

} // namespace alopex::slirp::ppp
