// SPDX-License-Identifier: GPL-2.0-or-later
// RFC 1661 §4: the transition table cell by cell where it matters, the paths a link takes
// with pppd on the other end (plain, crossed, retransmitted, terminated either way), the
// restart counter and timer, and properties every cell must have.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fsm.hpp"

using namespace alopex::slirp::ppp;

namespace {

// An Automaton whose hooks write what they did, in order.
struct Rig {
    std::vector<std::string> log;
    Automaton fsm;

    Rig() : fsm(hooks()) {}
    AutomatonHooks hooks()
    {
        auto say = [this](const char *what) { return [this, what] { log.emplace_back(what); }; };
        return {say("tlu"), say("tld"), say("tls"), say("tlf"), say("scr"), say("sca"), say("scn"),
                say("str"), say("sta"), say("scj"), say("ser")};
    }
    std::vector<std::string> take() { return std::exchange(log, {}); }
};

using L = std::vector<std::string>;

} // namespace

TEST_CASE("ppp fsm: cells of the RFC's table, with their actions in order", "[slirp][fsm]")
{
    auto t = transition(State::AckRcvd, Event::RcrPlus);
    CHECK(t.next == State::Opened);
    CHECK(t.actions[0] == Sca);   // the Ack goes out before the layer above starts sending
    CHECK(t.actions[1] == Tlu);
    t = transition(State::Opened, Event::Rtr);
    CHECK(t.next == State::Stopping);
    CHECK(t.actions == std::array<Action, 3>{Tld, Zrc, Sta});
    t = transition(State::Opened, Event::RxjMinus);
    CHECK(t.next == State::Stopping);
    CHECK(t.actions == std::array<Action, 3>{Tld, Irc, Str});
    CHECK(transition(State::Stopped, Event::RcrMinus).next == State::ReqSent);
    CHECK(transition(State::AckSent, Event::Rcn).next == State::AckSent);
    CHECK(transition(State::AckRcvd, Event::RxjPlus).next == State::ReqSent);
    CHECK(transition(State::Closing, Event::Rta).next == State::Closed);
    CHECK_FALSE(transition(State::Initial, Event::Rca).legal);
    CHECK_FALSE(transition(State::Opened, Event::ToPlus).legal);
    CHECK_FALSE(transition(State::Closed, Event::Up).legal);
}

TEST_CASE("ppp fsm: every cell that starts the restart timer sends or zeroes the counter", "[slirp][fsm]")
{
    for (int si = 0; si < state_count; ++si)
        for (int ei = 0; ei < event_count; ++ei) {
            auto s = static_cast<State>(si);
            auto e = static_cast<Event>(ei);
            auto t = transition(s, e);
            INFO(to_string(s) << " + " << to_string(e) << " -> " << to_string(t.next));
            if (!t.legal) {
                CHECK(t.next == s);
                continue;
            }
            if (!timer_runs_in(s) && timer_runs_in(t.next))
                CHECK((t.has(Scr) || t.has(Str) || t.has(Zrc)));
            // The layer goes down exactly when Opened is left, and up exactly when entered.
            CHECK(t.has(Tld) == (s == State::Opened && t.next != State::Opened));
            CHECK(t.has(Tlu) == (s != State::Opened && t.next == State::Opened));
            // Irc comes before the send whose counter it sets.
            if (t.has(Irc))
                CHECK((t.has(Scr) || t.has(Str) || s == State::ReqSent || s == State::AckSent));
            // Timer-only events cannot occur where no timer runs.
            if (e == Event::ToPlus || e == Event::ToMinus)
                CHECK(timer_runs_in(s));
        }
}

TEST_CASE("ppp fsm: the usual open, as with pppd answering", "[slirp][fsm]")
{
    Rig r;
    CHECK(r.fsm.event(Event::Open));
    CHECK(r.take() == L{"tls"});
    CHECK(r.fsm.event(Event::Up));
    CHECK(r.take() == L{"scr"});
    CHECK(r.fsm.state() == State::ReqSent);
    CHECK(r.fsm.timer_running());
    CHECK(r.fsm.restart_counter() == 9);
    r.fsm.event(Event::RcrPlus);
    CHECK(r.take() == L{"sca"});
    CHECK(r.fsm.state() == State::AckSent);
    r.fsm.event(Event::Rca);
    CHECK(r.take() == L{"tlu"});
    CHECK(r.fsm.state() == State::Opened);
    CHECK_FALSE(r.fsm.timer_running());
    r.fsm.event(Event::Rxr);
    CHECK(r.take() == L{"ser"});
}

TEST_CASE("ppp fsm: crossed requests, Naks, then open", "[slirp][fsm]")
{
    Rig r;
    r.fsm.event(Event::Up);
    r.fsm.event(Event::Open);
    CHECK(r.take() == L{"scr"});
    r.fsm.event(Event::RcrMinus);   // the peer asks for something we Nak
    CHECK(r.take() == L{"scn"});
    CHECK(r.fsm.failures() == 1);
    r.fsm.event(Event::Rcn);        // and Naks ours: a new request
    CHECK(r.take() == L{"scr"});
    r.fsm.event(Event::Rca);
    CHECK(r.fsm.state() == State::AckRcvd);
    r.fsm.event(Event::RcrPlus);
    CHECK(r.take() == L{"sca", "tlu"});
    CHECK(r.fsm.state() == State::Opened);
    CHECK(r.fsm.failures() == 0);
}

TEST_CASE("ppp fsm: a silent peer gets max-configure requests, then this layer finishes", "[slirp][fsm]")
{
    Rig r;
    r.fsm.event(Event::Open);
    r.fsm.event(Event::Up);
    uint64_t gen = r.fsm.timer_generation();
    int timeouts = 0;
    while (r.fsm.timer_running() && timeouts < 100) {
        r.fsm.timeout();
        ++timeouts;
        if (r.fsm.timer_running())
            CHECK(r.fsm.timer_generation() > gen);   // each retransmission restarts it
        gen = r.fsm.timer_generation();
    }
    auto log = r.take();
    CHECK(std::count(log.begin(), log.end(), "scr") == 10);   // max-configure
    CHECK(log.back() == "tlf");
    CHECK(r.fsm.state() == State::Stopped);
    CHECK(timeouts == 10);
}

TEST_CASE("ppp fsm: closing sends max-terminate requests; the peer's Terminate-Ack ends it", "[slirp][fsm]")
{
    Rig r;
    r.fsm.event(Event::Open);
    r.fsm.event(Event::Up);
    r.fsm.event(Event::RcrPlus);
    r.fsm.event(Event::Rca);
    r.take();
    r.fsm.event(Event::Close);
    CHECK(r.take() == L{"tld", "str"});
    CHECK(r.fsm.state() == State::Closing);
    r.fsm.timeout();
    CHECK(r.take() == L{"str"});
    r.fsm.timeout();   // max-terminate (2) sent: finished
    CHECK(r.take() == L{"tlf"});
    CHECK(r.fsm.state() == State::Closed);

    Rig q;
    q.fsm.event(Event::Open);
    q.fsm.event(Event::Up);
    q.fsm.event(Event::Close);
    q.fsm.event(Event::Rta);
    CHECK(q.take() == L{"tls", "scr", "str", "tlf"});
    CHECK(q.fsm.state() == State::Closed);
}

TEST_CASE("ppp fsm: the peer terminates: Ack, one restart period, then finished", "[slirp][fsm]")
{
    Rig r;
    r.fsm.event(Event::Open);
    r.fsm.event(Event::Up);
    r.fsm.event(Event::RcrPlus);
    r.fsm.event(Event::Rca);
    r.take();
    uint64_t gen = r.fsm.timer_generation();
    r.fsm.event(Event::Rtr);
    CHECK(r.take() == L{"tld", "sta"});
    CHECK(r.fsm.state() == State::Stopping);
    CHECK(r.fsm.timer_running());
    CHECK(r.fsm.timer_generation() > gen);
    r.fsm.timeout();
    CHECK(r.take() == L{"tlf"});
    CHECK(r.fsm.state() == State::Stopped);
    // A new request from the peer starts over (the link is still up).
    r.fsm.event(Event::RcrPlus);
    CHECK(r.take() == L{"scr", "sca"});
    CHECK(r.fsm.state() == State::AckSent);
}

TEST_CASE("ppp fsm: illegal events change nothing; Down and Up go around", "[slirp][fsm]")
{
    Rig r;
    CHECK_FALSE(r.fsm.event(Event::Rca));
    CHECK_FALSE(r.fsm.event(Event::ToPlus));
    CHECK(r.fsm.state() == State::Initial);
    CHECK(r.take().empty());
    r.fsm.event(Event::Open);
    r.fsm.event(Event::Up);
    r.fsm.event(Event::RcrPlus);
    r.fsm.event(Event::Rca);
    r.fsm.event(Event::Down);
    CHECK(r.fsm.state() == State::Starting);
    CHECK(r.take() == L{"tls", "scr", "sca", "tlu", "tld"});
    r.fsm.event(Event::Up);
    CHECK(r.take() == L{"scr"});
    CHECK(r.fsm.restart_counter() == 9);
}

TEST_CASE("ppp fsm: Naks in a row reach max-failure; an Ack clears them", "[slirp][fsm]")
{
    Rig r;
    r.fsm.event(Event::Open);
    r.fsm.event(Event::Up);
    for (int i = 0; i < 5; ++i)
        r.fsm.event(Event::RcrMinus);
    CHECK(r.fsm.reject_instead_of_nak());
    r.fsm.event(Event::RcrPlus);
    CHECK_FALSE(r.fsm.reject_instead_of_nak());
}

TEST_CASE("ppp fsm: random event sequences keep the timer rule and never go wild", "[slirp][fsm]")
{
    std::mt19937 rng(1661);
    for (int run = 0; run < 200; ++run) {
        Rig r;
        bool up = false;
        for (int i = 0; i < 300; ++i) {
            auto e = static_cast<Event>(rng() % event_count);
            if (e == Event::ToPlus || e == Event::ToMinus) {
                if (!r.fsm.timer_running())
                    continue;
                r.fsm.timeout();
            } else {
                State before = r.fsm.state();
                uint64_t gen = r.fsm.timer_generation();
                bool legal = r.fsm.event(e);
                if (!legal)
                    CHECK(r.fsm.state() == before);
                if (legal && !timer_runs_in(before) && r.fsm.timer_running())
                    CHECK(r.fsm.timer_generation() > gen);
            }
            CHECK(r.fsm.restart_counter() <= 10);
            CHECK(r.fsm.restart_counter() >= -1);
            for (const auto &a : r.take()) {
                if (a == "tlu") {
                    CHECK_FALSE(up);
                    up = true;
                } else if (a == "tld") {
                    CHECK(up);
                    up = false;
                }
            }
            CHECK(up == (r.fsm.state() == State::Opened));
        }
    }
}
