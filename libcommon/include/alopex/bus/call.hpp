// SPDX-License-Identifier: GPL-2.0-or-later
// The context of one D-Bus method call: its typed arguments have been read (an argument
// that does not decode is refused with an error naming it before the handler runs), and
// the handler answers through it exactly once — at once (reply / fail), after polkit
// (authorize), or later from a completion callback (defer).
//
//   void Manager::set_mtu(bus::Call &c, int32_t ifindex, uint32_t mtu) {
//       auto l = require_link(ifindex, "ifindex");   // Result<...>, error names the argument
//       if (!c.ok(l) || !c.ok(check_mtu(mtu)))
//           return;                                  // refused, nothing changed
//       if (!c.authorize(link1::polkit_action))
//           return;                                  // refused, or asked polkit: this handler
//                                                    // runs again with the same message
//       rtnl_.submit(req, [p = c.defer()](Result<> r) mutable {
//           r ? p.reply() : p.fail(r.error());
//       });
//   }
//
// Errors whose Error::bus_name is empty get a name from the service's error mapper
// (default: EINVAL-like errnos -> InvalidArgument, ENODEV -> NoSuchLink, the rest IOError).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <systemd/sd-bus.h>

#include "alopex/bus/codec.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::bus {

class Service;

// errno -> error name for Errors without a bus name.
using ErrorMapper = const char *(*)(const Error &);
const char *default_error_name(const Error &e);

// Builds a method return carrying `v...`, refusing a reply whose signature is not the
// method's output signature (a programming error: org.alopex.Error.Internal).
namespace detail {
Result<MessagePtr> new_return(sd_bus_message *call, const std::string &have, const char *want);
int send(sd_bus_message *m);
} // namespace detail

// The obligation to answer a call later (move-only). Destroyed without an answer, it
// answers org.alopex.Error.Internal, so no caller waits for a reply that never comes.
class PendingReply {
public:
    PendingReply() = default;
    PendingReply(MessagePtr call, const MethodSpec *spec, ErrorMapper mapper) noexcept
        : call_(std::move(call)), spec_(spec), mapper_(mapper) {}
    PendingReply(PendingReply &&) noexcept = default;
    PendingReply &operator=(PendingReply &&o) noexcept;
    PendingReply(const PendingReply &) = delete;
    PendingReply &operator=(const PendingReply &) = delete;
    ~PendingReply();

    explicit operator bool() const noexcept { return call_ != nullptr; }
    sd_bus_message *message() const noexcept { return call_.get(); }

    template <typename... T> void reply(const T &...v)
    {
        if (!call_)
            return;
        auto msg = detail::new_return(call_.get(), signature_of_all<T...>(), spec_ ? spec_->out : "");
        if (msg && detail::append_each(msg->get(), v...) >= 0)
            (void)detail::send(msg->get());
        else
            answer_error(msg ? Error{EIO, "cannot build the reply", bus_error::Internal} : msg.error());
        call_.reset();
    }
    void fail(const Error &e);

private:
    void answer_error(const Error &e);
    MessagePtr call_;
    const MethodSpec *spec_ = nullptr;
    ErrorMapper mapper_ = default_error_name;
};

class Call {
public:
    enum class State { Open, Replied, Failed, Deferred, Waiting };

    Call(sd_bus_message *m, sd_bus_error *ret, const MethodSpec &spec, Service &service) noexcept
        : m_(m), ret_(ret), spec_(spec), service_(service) {}
    Call(const Call &) = delete;
    Call &operator=(const Call &) = delete;

    sd_bus_message *message() const noexcept { return m_; }
    std::string_view sender() const noexcept;
    std::string_view member() const noexcept { return spec_.name; }
    const MethodSpec &spec() const noexcept { return spec_; }
    Service &service() const noexcept { return service_; }
    State state() const noexcept { return state_; }
    // The caller allows interactive authorization (the message header's flag).
    bool interactive() const;

    template <typename... T> void reply(const T &...v)
    {
        if (state_ != State::Open)
            return;
        auto msg = detail::new_return(m_, signature_of_all<T...>(), spec_.out);
        if (!msg) {
            fail(msg.error());
            return;
        }
        int r = detail::append_each(msg->get(), v...);
        if (r >= 0)
            r = detail::send(msg->get());
        if (r < 0) {
            fail(Error{-r, fmt::format("cannot send the reply: {}", strerror(-r)), bus_error::Internal});
            return;
        }
        state_ = State::Replied;
    }
    void fail(const Error &e);
    template <typename... A> void fail(const char *name, fmt::format_string<A...> f, A &&...a)
    {
        fail(Error{EINVAL, fmt::format(f, std::forward<A>(a)...), name});
    }
    // InvalidArgument "ARG: what".
    template <typename... A> void invalid(std::string_view arg, fmt::format_string<A...> f, A &&...a)
    {
        fail(Error{EINVAL, fmt::format("{}: {}", arg, fmt::format(f, std::forward<A>(a)...)),
                   bus_error::InvalidArgument});
    }
    // True when `r` holds a value; otherwise fails the call with its error.
    template <typename T> bool ok(const Result<T> &r)
    {
        if (r)
            return true;
        fail(r.error());
        return false;
    }

    // polkit: true when `action` is authorized for the caller. False: the call was refused
    // (NotAuthorized, or Busy when too many checks are pending) or polkit is being asked,
    // and this handler runs again with the same message once it answered (arguments are
    // read and checked again then). Several actions may be checked in sequence.
    bool authorize(const char *action);

    // Hands the answer to a callback; the handler returns without replying.
    PendingReply defer();

    // Not now: the handler returns without replying, and runs again with the same message
    // (from the start: arguments read and checked, polkit asked) when the returned
    // function is called, as after a polkit answer. For a call that must wait for the
    // daemon's state (linkd's checkpoint methods while it starts). Never called: the
    // call is not answered.
    std::function<void()> postpone();

    // For the dispatcher: what sd-bus gets back for this call.
    int finish();

private:
    sd_bus_message *m_;
    sd_bus_error *ret_;
    const MethodSpec &spec_;
    Service &service_;
    State state_ = State::Open;
    int error_ = 0;
};

} // namespace alopex::bus
