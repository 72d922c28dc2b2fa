// SPDX-License-Identifier: GPL-2.0-or-later
#include "fsm.hpp"

namespace alopex::slirp::ppp {
namespace {

using S = State;
constexpr Action none = static_cast<Action>(0);

struct Cell {
    S next;
    std::array<Action, 3> actions;
    bool legal;
};
constexpr Cell bad{S::Initial, {}, false};   // "-": the event cannot occur in this state
constexpr Cell c(S next, Action a = none, Action b = none, Action d = none) { return {next, {a, b, d}, true}; }

// RFC 1661 §4.1, one row per event, columns Initial .. Opened.
// clang-format off
constexpr Cell table[event_count][state_count] = {
    // Up
    {c(S::Closed), c(S::ReqSent, Irc, Scr), bad, bad, bad, bad, bad, bad, bad, bad},
    // Down
    {bad, bad, c(S::Initial), c(S::Starting, Tls), c(S::Initial), c(S::Starting), c(S::Starting),
     c(S::Starting), c(S::Starting), c(S::Starting, Tld)},
    // Open
    {c(S::Starting, Tls), c(S::Starting), c(S::ReqSent, Irc, Scr), c(S::Stopped), c(S::Stopping),
     c(S::Stopping), c(S::ReqSent), c(S::AckRcvd), c(S::AckSent), c(S::Opened)},
    // Close
    {c(S::Initial), c(S::Initial, Tlf), c(S::Closed), c(S::Closed), c(S::Closing), c(S::Closing),
     c(S::Closing, Irc, Str), c(S::Closing, Irc, Str), c(S::Closing, Irc, Str), c(S::Closing, Tld, Irc, Str)},
    // TO+
    {bad, bad, bad, bad, c(S::Closing, Str), c(S::Stopping, Str), c(S::ReqSent, Scr), c(S::ReqSent, Scr),
     c(S::AckSent, Scr), bad},
    // TO-
    {bad, bad, bad, bad, c(S::Closed, Tlf), c(S::Stopped, Tlf), c(S::Stopped, Tlf), c(S::Stopped, Tlf),
     c(S::Stopped, Tlf), bad},
    // RCR+
    {bad, bad, c(S::Closed, Sta), c(S::AckSent, Irc, Scr, Sca), c(S::Closing), c(S::Stopping),
     c(S::AckSent, Sca), c(S::Opened, Sca, Tlu), c(S::AckSent, Sca), c(S::AckSent, Tld, Scr, Sca)},
    // RCR-
    {bad, bad, c(S::Closed, Sta), c(S::ReqSent, Irc, Scr, Scn), c(S::Closing), c(S::Stopping),
     c(S::ReqSent, Scn), c(S::AckRcvd, Scn), c(S::ReqSent, Scn), c(S::ReqSent, Tld, Scr, Scn)},
    // RCA
    {bad, bad, c(S::Closed, Sta), c(S::Stopped, Sta), c(S::Closing), c(S::Stopping), c(S::AckRcvd, Irc),
     c(S::ReqSent, Scr), c(S::Opened, Irc, Tlu), c(S::ReqSent, Tld, Scr)},
    // RCN
    {bad, bad, c(S::Closed, Sta), c(S::Stopped, Sta), c(S::Closing), c(S::Stopping), c(S::ReqSent, Irc, Scr),
     c(S::ReqSent, Scr), c(S::AckSent, Irc, Scr), c(S::ReqSent, Tld, Scr)},
    // RTR
    {bad, bad, c(S::Closed, Sta), c(S::Stopped, Sta), c(S::Closing, Sta), c(S::Stopping, Sta),
     c(S::ReqSent, Sta), c(S::ReqSent, Sta), c(S::ReqSent, Sta), c(S::Stopping, Tld, Zrc, Sta)},
    // RTA
    {bad, bad, c(S::Closed), c(S::Stopped), c(S::Closed, Tlf), c(S::Stopped, Tlf), c(S::ReqSent),
     c(S::ReqSent), c(S::AckSent), c(S::ReqSent, Tld, Scr)},
    // RUC
    {bad, bad, c(S::Closed, Scj), c(S::Stopped, Scj), c(S::Closing, Scj), c(S::Stopping, Scj),
     c(S::ReqSent, Scj), c(S::AckRcvd, Scj), c(S::AckSent, Scj), c(S::Opened, Scj)},
    // RXJ+
    {bad, bad, c(S::Closed), c(S::Stopped), c(S::Closing), c(S::Stopping), c(S::ReqSent), c(S::ReqSent),
     c(S::AckSent), c(S::Opened)},
    // RXJ-
    {bad, bad, c(S::Closed, Tlf), c(S::Stopped, Tlf), c(S::Closed, Tlf), c(S::Stopped, Tlf),
     c(S::Stopped, Tlf), c(S::Stopped, Tlf), c(S::Stopped, Tlf), c(S::Stopping, Tld, Irc, Str)},
    // RXR
    {bad, bad, c(S::Closed), c(S::Stopped), c(S::Closing), c(S::Stopping), c(S::ReqSent), c(S::AckRcvd),
     c(S::AckSent), c(S::Opened, Ser)},
};
// clang-format on

void call(const std::function<void()> &f)
{
    if (f)
        f();
}

} // namespace

std::string_view to_string(State s)
{
    static constexpr std::string_view names[] = {"Initial", "Starting", "Closed",   "Stopped", "Closing",
                                                 "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened"};
    return names[static_cast<int>(s)];
}

std::string_view to_string(Event e)
{
    static constexpr std::string_view names[] = {"Up",  "Down", "Open", "Close", "TO+", "TO-",  "RCR+", "RCR-",
                                                 "RCA", "RCN",  "RTR",  "RTA",   "RUC", "RXJ+", "RXJ-", "RXR"};
    return names[static_cast<int>(e)];
}

Transition transition(State s, Event e)
{
    const Cell &cell = table[static_cast<int>(e)][static_cast<int>(s)];
    if (!cell.legal)
        return {s, {}, false};
    return {cell.next, cell.actions, true};
}

bool timer_runs_in(State s)
{
    return s == S::Closing || s == S::Stopping || s == S::ReqSent || s == S::AckRcvd || s == S::AckSent;
}

bool Automaton::event(Event e)
{
    Transition t = transition(state_, e);
    if (!t.legal)
        return false;
    run(t);
    return true;
}

void Automaton::run(const Transition &t)
{
    bool terminating = t.has(Str);
    for (Action a : t.actions) {
        switch (a) {
        case Tld: call(hooks_.this_layer_down); break;
        case Tlu: call(hooks_.this_layer_up); break;
        case Tls: call(hooks_.this_layer_started); break;
        case Tlf: call(hooks_.this_layer_finished); break;
        case Irc: restart_counter_ = terminating ? limits_.max_terminate : limits_.max_configure; break;
        case Zrc:
            restart_counter_ = 0;
            restart_timer();   // one restart period before TO- (RFC 1661 §4.4)
            break;
        case Scr:
            --restart_counter_;
            restart_timer();
            call(hooks_.send_configure_request);
            break;
        case Sca:
            failures_ = 0;
            call(hooks_.send_configure_ack);
            break;
        case Scn:
            ++failures_;
            call(hooks_.send_configure_nak);
            break;
        case Str:
            --restart_counter_;
            restart_timer();
            call(hooks_.send_terminate_request);
            break;
        case Sta: call(hooks_.send_terminate_ack); break;
        case Scj: call(hooks_.send_code_reject); break;
        case Ser: call(hooks_.send_echo_reply); break;
        default: break;
        }
    }
    // Leaving the negotiating states clears the Nak count, as a new negotiation begins.
    if (!timer_runs_in(t.next))
        failures_ = 0;
    state_ = t.next;
}

} // namespace alopex::slirp::ppp
