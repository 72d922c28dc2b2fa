// SPDX-License-Identifier: GPL-2.0-or-later
// Asynchronous polkit checks for D-Bus method handlers, shaped like systemd's
// bus_verify_polkit_async(): the first call asks polkit and returns 0; when polkit
// answers, the original message is re-dispatched (sd_bus_enqueue_for_read) and the
// handler's second call to check() finds the verdict. No polkit on the bus (no owner,
// an error reply) means "not authorized". The sender is identified to polkit as a
// `system-bus-name` subject, so polkit reads the credentials from the bus itself.
//
//   int Manager::set_mtu(sd_bus_message *m, sd_bus_error *ret) {
//       int r = authority_.check(m, "org.alopex.link.configure", ret);
//       if (r <= 0)
//           return r < 0 ? r : 1;   // denied (ret set) / asked polkit, will be called again
//       ... validate, act, reply ...
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>

#include <systemd/sd-bus.h>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::polkit {

inline constexpr const char *service = "org.freedesktop.PolicyKit1";
inline constexpr const char *object = "/org/freedesktop/PolicyKit1/Authority";
inline constexpr const char *interface = "org.freedesktop.PolicyKit1.Authority";
inline constexpr uint32_t flag_allow_interaction = 1;

enum class Verdict { Authorized, Challenge, Denied };

struct CheckResult {
    bool authorized = false;
    bool challenge = false;
    std::map<std::string, std::string> details;
    Verdict verdict() const
    {
        return authorized ? Verdict::Authorized
                          : (challenge ? Verdict::Challenge : Verdict::Denied);
    }
};

// Appends CheckAuthorization's arguments "(sa{sv})sa{ss}us" to a method call:
// subject ("system-bus-name", {"name": <sender>}), action, details {}, flags, "".
int append_check_args(sd_bus_message *call, const char *sender, const char *action,
                      bool interactive);

// Parses the body of CheckAuthorization's reply, "(bba{ss})". Pure; no bus needed.
Result<CheckResult> parse_check_reply(sd_bus_message *reply);

// Turns a verdict into what check() returns: 1 when authorized, otherwise a negative
// errno with *ret set to org.alopex.Error.NotAuthorized naming the action.
int verdict_to_result(Verdict v, const char *action, sd_bus_error *ret);

struct Limits {
    unsigned per_sender = 16;   // checks waiting for polkit per caller
    unsigned total = 256;       // and for everyone
};

// One per bus connection (bus::Service owns it). Non-movable: queries hand `this`-owned
// state to sd-bus.
class Authority {
public:
    explicit Authority(sd_bus *bus, Limits limits = {}) noexcept : bus_(bus), limits_(limits) {}
    Authority(const Authority &) = delete;
    Authority &operator=(const Authority &) = delete;
    ~Authority();

    // 1: authorized, go on. 0: polkit asked; return 1 from the handler without replying,
    // it is called again with the same message once polkit has answered. <0: refused,
    // *ret set (org.alopex.Error.NotAuthorized; org.alopex.Error.Busy when the caller or
    // everyone has too many checks waiting). One call may check several actions in turn:
    // the verdicts stay with the message until release().
    int check(sd_bus_message *m, const char *action, sd_bus_error *ret);
    // Several actions, all required, checked in order (the same as one check() per
    // action): refused names the first one polkit did not grant.
    int check(sd_bus_message *m, std::initializer_list<const char *> actions, sd_bus_error *ret);
    // The handler is done with `m` (answered, refused or deferred): forget its verdicts.
    // Does nothing while a check of `m` is still waiting for polkit. Verdicts a handler
    // read without calling this are forgotten at the end of the loop iteration.
    void release(sd_bus_message *m);

    // Checks waiting for polkit (for tests and shutdown).
    std::size_t pending() const noexcept { return waiting_; }

private:
    struct Query {
        SlotPtr slot;
        bool done = false;
        Verdict verdict = Verdict::Denied;
        std::string failure;   // set when polkit could not be asked or answered an error
    };
    struct Pending {
        Authority *owner = nullptr;
        MessagePtr request;
        std::string sender;
        std::map<std::string, Query, std::less<>> actions;
        bool consumed = false;   // a verdict was read
    };
    struct Ticket {   // the userdata of one outstanding CheckAuthorization
        Pending *call;
        std::string action;
    };
    static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *) noexcept;
    static int on_cleanup(sd_event_source *, void *userdata) noexcept;
    void schedule_cleanup();
    int finish(const std::string &action, const Query &q, sd_bus_error *ret);
    void settle(Pending &p, Query &q);

    sd_bus *bus_;
    Limits limits_;
    std::map<sd_bus_message *, std::unique_ptr<Pending>> calls_;
    std::map<std::string, unsigned, std::less<>> waiting_by_sender_;
    std::size_t waiting_ = 0;
    std::map<Query *, std::unique_ptr<Ticket>> tickets_;
    EventSourcePtr cleanup_;
};

} // namespace alopex::polkit
