// SPDX-License-Identifier: GPL-2.0-or-later
// Asynchronous polkit CheckAuthorization, re-dispatching the caller's message on answer.
#include "alopex/polkit.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace alopex::polkit {

namespace {
// An interactive check may wait for a human typing a password.
constexpr uint64_t interactive_timeout_usec = 5ull * 60 * 1000 * 1000;
} // namespace

int append_check_args(sd_bus_message *call, const char *sender, const char *action,
                      bool interactive)
{
    int r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender,
                                  action);
    if (r < 0)
        return r;
    r = sd_bus_message_append(call, "a{ss}", 0);
    if (r < 0)
        return r;
    return sd_bus_message_append(call, "us", interactive ? flag_allow_interaction : 0u, "");
}

Result<CheckResult> parse_check_reply(sd_bus_message *reply)
{
    auto bad = [](int r) {
        return failf(r < 0 ? -r : EBADMSG, "malformed CheckAuthorization reply: {}",
                     r < 0 ? strerror(-r) : "wrong signature");
    };
    CheckResult out;
    int r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
    if (r <= 0)
        return bad(r);
    int authorized = 0, challenge = 0;
    r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
    if (r <= 0)
        return bad(r);
    r = sd_bus_message_enter_container(reply, 'a', "{ss}");
    if (r <= 0)
        return bad(r);
    for (;;) {
        const char *k = nullptr, *v = nullptr;
        r = sd_bus_message_read(reply, "{ss}", &k, &v);
        if (r < 0)
            return bad(r);
        if (r == 0)
            break;
        out.details.emplace(k, v);
    }
    if ((r = sd_bus_message_exit_container(reply)) < 0 ||
        (r = sd_bus_message_exit_container(reply)) < 0)
        return bad(r);
    out.authorized = authorized;
    out.challenge = challenge;
    return out;
}

int verdict_to_result(Verdict v, const char *action, sd_bus_error *ret)
{
    switch (v) {
    case Verdict::Authorized:
        return 1;
    case Verdict::Challenge:
        return sd_bus_error_setf(ret, bus_error::NotAuthorized,
                                 "interactive authentication required for %s", action);
    case Verdict::Denied:
        break;
    }
    return sd_bus_error_setf(ret, bus_error::NotAuthorized, "not authorized for %s", action);
}

Authority::~Authority()
{
    // Dropping the slots cancels the outstanding calls; the requests are unreferenced.
    calls_.clear();
    tickets_.clear();
}

int Authority::finish(const std::string &action, const Query &q, sd_bus_error *ret)
{
    if (!q.failure.empty())
        return sd_bus_error_setf(ret, bus_error::NotAuthorized, "not authorized for %s: %s", action.c_str(),
                                 q.failure.c_str());
    return verdict_to_result(q.verdict, action.c_str(), ret);
}

void Authority::settle(Pending &p, Query &q)
{
    if (q.done)
        return;
    q.done = true;
    --waiting_;
    if (auto it = waiting_by_sender_.find(p.sender); it != waiting_by_sender_.end() && --it->second == 0)
        waiting_by_sender_.erase(it);
}

int Authority::check(sd_bus_message *m, const char *action, sd_bus_error *ret)
{
    auto it = calls_.find(m);
    if (it != calls_.end()) {
        if (auto q = it->second->actions.find(action); q != it->second->actions.end()) {
            if (!q->second.done)
                return 0;
            it->second->consumed = true;
            schedule_cleanup();
            return finish(q->first, q->second, ret);
        }
    }

    const char *sender = sd_bus_message_get_sender(m);
    if (!sender)
        return sd_bus_error_setf(ret, bus_error::NotAuthorized,
                                 "not authorized for %s: caller has no bus name", action);
    auto by_sender = waiting_by_sender_.find(sender);
    unsigned mine = by_sender == waiting_by_sender_.end() ? 0 : by_sender->second;
    if (mine >= limits_.per_sender || waiting_ >= limits_.total)
        return sd_bus_error_setf(ret, bus_error::Busy,
                                 "not authorized for %s now: too many authorization checks are waiting "
                                 "(%u of this caller, %zu in all)", action, mine, waiting_);
    bool interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;

    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &raw, service, object, interface, "CheckAuthorization");
    if (r < 0)
        return r;
    MessagePtr call(raw);
    r = append_check_args(call.get(), sender, action, interactive);
    if (r < 0)
        return r;

    if (it == calls_.end()) {
        auto p = std::make_unique<Pending>();
        p->owner = this;
        p->request = ref(m);
        p->sender = sender;
        it = calls_.emplace(m, std::move(p)).first;
    }
    Pending &p = *it->second;
    auto [qit, _] = p.actions.try_emplace(action);
    Query &q = qit->second;
    auto ticket = std::make_unique<Ticket>(Ticket{&p, action});
    sd_bus_slot *slot = nullptr;
    r = sd_bus_call_async(bus_, &slot, call.get(), &Authority::on_reply, ticket.get(),
                          interactive ? interactive_timeout_usec : 0);
    if (r < 0) {
        p.actions.erase(qit);
        if (p.actions.empty())
            calls_.erase(it);
        return sd_bus_error_setf(ret, bus_error::NotAuthorized, "not authorized for %s: cannot ask polkit: %s",
                                 action, strerror(-r));
    }
    q.slot.reset(slot);
    tickets_.emplace(&q, std::move(ticket));
    ++waiting_;
    ++waiting_by_sender_[p.sender];
    return 0;
}

int Authority::check(sd_bus_message *m, std::initializer_list<const char *> actions, sd_bus_error *ret)
{
    for (const char *a : actions)
        if (int r = check(m, a, ret); r <= 0)
            return r;
    return 1;
}

void Authority::release(sd_bus_message *m)
{
    auto it = calls_.find(m);
    if (it == calls_.end())
        return;
    for (const auto &[_, q] : it->second->actions)
        if (!q.done)
            return;
    calls_.erase(it);
}

void Authority::schedule_cleanup()
{
    sd_event *e = sd_bus_get_event(bus_);
    if (cleanup_ || !e)
        return;
    sd_event_source *s = nullptr;
    if (sd_event_add_defer(e, &s, &Authority::on_cleanup, this) >= 0)
        cleanup_.reset(s);
}

int Authority::on_cleanup(sd_event_source *, void *userdata) noexcept
{
    auto *self = static_cast<Authority *>(userdata);
    self->cleanup_.reset();
    for (auto it = self->calls_.begin(); it != self->calls_.end();) {
        bool waiting = false;
        for (const auto &[_, q] : it->second->actions)
            waiting = waiting || !q.done;
        if (it->second->consumed && !waiting)
            it = self->calls_.erase(it);
        else
            ++it;
    }
    return 0;
}

int Authority::on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *) noexcept
{
    auto *t = static_cast<Ticket *>(userdata);
    Pending *p = t->call;
    Authority *self = p->owner;
    auto qit = p->actions.find(t->action);
    if (qit == p->actions.end())
        return 0;
    Query &q = qit->second;
    try {
        if (sd_bus_message_is_method_error(reply, nullptr)) {
            const sd_bus_error *e = sd_bus_message_get_error(reply);
            q.failure = fmt::format("polkit unavailable ({})", e && e->name ? e->name : "error reply");
        } else if (auto res = parse_check_reply(reply); !res) {
            q.failure = res.error().to_string();
        } else {
            q.verdict = res->verdict();
        }
    } catch (...) {
        q.failure = "internal error while reading polkit's answer";
    }
    self->settle(*p, q);
    // Re-dispatch the original call; the handler finds the verdict in calls_.
    sd_bus_message *request = p->request.get();
    int r = sd_bus_enqueue_for_read(self->bus_, request);
    // The slot and the ticket are no longer needed (freeing them here is allowed).
    auto ticket = self->tickets_.extract(&q);
    q.slot.reset();
    if (r < 0) {
        sd_bus_reply_method_errorf(request, bus_error::Internal,
                                   "cannot re-dispatch after polkit answered: %s", strerror(-r));
        self->calls_.erase(request);
    }
    return 0;
}

} // namespace alopex::polkit
