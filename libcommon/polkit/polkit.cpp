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
    queries_.clear();
}

int Authority::finish(Query &q, sd_bus_error *ret)
{
    const char *action = q.actions[q.current].c_str();
    if (!q.failure.empty())
        return sd_bus_error_setf(ret, bus_error::NotAuthorized, "not authorized for %s: %s",
                                 action, q.failure.c_str());
    return verdict_to_result(q.verdict, action, ret);
}

int Authority::ask(Query &q, sd_bus_error *ret)
{
    const char *action = q.actions[q.current].c_str();
    sd_bus_message *m = q.request.get();
    const char *sender = sd_bus_message_get_sender(m);
    if (!sender)
        return sd_bus_error_setf(ret, bus_error::NotAuthorized,
                                 "not authorized for %s: caller has no bus name", action);
    bool interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;

    sd_bus_message *raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &raw, service, object, interface,
                                           "CheckAuthorization");
    if (r < 0)
        return r;
    MessagePtr call(raw);
    r = append_check_args(call.get(), sender, action, interactive);
    if (r < 0)
        return r;
    q.done = false;
    q.verdict = Verdict::Denied;
    q.failure.clear();
    sd_bus_slot *slot = nullptr;
    r = sd_bus_call_async(bus_, &slot, call.get(), &Authority::on_reply, &q,
                          interactive ? interactive_timeout_usec : 0);
    if (r < 0)
        return sd_bus_error_setf(ret, bus_error::NotAuthorized,
                                 "not authorized for %s: cannot ask polkit: %s", action,
                                 strerror(-r));
    q.slot.reset(slot);
    return 0;
}

int Authority::check(sd_bus_message *m, const char *action, sd_bus_error *ret)
{
    return check(m, {action}, ret);
}

int Authority::check(sd_bus_message *m, std::initializer_list<const char *> actions,
                     sd_bus_error *ret)
{
    if (actions.size() == 0)
        return 1;
    std::vector<std::string> wanted(actions.begin(), actions.end());
    auto it = queries_.find(m);
    if (it == queries_.end()) {
        auto q = std::make_unique<Query>();
        q->owner = this;
        q->request = ref(m);
        q->actions = std::move(wanted);
        if (int r = ask(*q, ret); r < 0)
            return r;
        queries_.emplace(m, std::move(q));
        return 0;
    }
    Query &q = *it->second;
    if (!q.done)
        return 0;   // called again before polkit answered (should not happen): keep waiting
    if (q.actions != wanted) {
        std::string asked = q.actions[q.current];
        queries_.erase(it);
        return sd_bus_error_setf(ret, bus_error::Internal,
                                 "one call checked different polkit actions (%s, %s)",
                                 asked.c_str(), *actions.begin());
    }
    int r = finish(q, ret);
    if (r < 0 || q.current + 1 == q.actions.size()) {
        queries_.erase(it);
        return r;
    }
    // Granted; the next action of the same call, on the same message.
    ++q.current;
    if (r = ask(q, ret); r < 0) {
        queries_.erase(it);
        return r;
    }
    return 0;
}

int Authority::on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *) noexcept
{
    auto *q = static_cast<Query *>(userdata);
    Authority *self = q->owner;
    try {
        if (sd_bus_message_is_method_error(reply, nullptr)) {
            const sd_bus_error *e = sd_bus_message_get_error(reply);
            q->failure = fmt::format("polkit unavailable ({})",
                                     e && e->name ? e->name : "error reply");
        } else if (auto res = parse_check_reply(reply); !res) {
            q->failure = res.error().to_string();
        } else {
            q->verdict = res->verdict();
        }
    } catch (...) {
        q->failure = "internal error while reading polkit's answer";
    }
    q->done = true;
    // Re-dispatch the original call; the handler finds the verdict in queries_.
    sd_bus_message *request = q->request.get();
    int r = sd_bus_enqueue_for_read(self->bus_, request);
    if (r < 0) {
        sd_bus_reply_method_errorf(request, bus_error::Internal,
                                   "cannot re-dispatch after polkit answered: %s", strerror(-r));
        self->queries_.erase(request);   // destroys q and its slot (allowed in the callback)
        return 0;
    }
    // The slot is no longer needed; q stays until the handler consumes the verdict.
    q->slot.reset();
    return 0;
}

} // namespace alopex::polkit
