// SPDX-License-Identifier: GPL-2.0-or-later
// Asynchronous polkit checks for D-Bus method handlers, shaped like systemd's
// bus_verify_polkit_async(): the first call asks polkit and returns 0; when polkit
// answers, the original message is re-dispatched (sd_bus_enqueue_for_read) and the
// handler's second call to check() finds the verdict. No polkit on the bus (no owner,
// an error reply) means "not authorized". The sender is identified to polkit as a
// `system-bus-name` subject, so polkit reads the credentials from the bus itself.
// A call that needs several actions passes them all to one check(): they are asked one
// after the other on the same message (each answer re-dispatches it), and the call is
// authorized only when every one is.
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
#include <vector>

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

// One per bus connection. Non-movable: queries hand `this`-owned state to sd-bus.
class Authority {
public:
    explicit Authority(sd_bus *bus) noexcept : bus_(bus) {}
    Authority(const Authority &) = delete;
    Authority &operator=(const Authority &) = delete;
    ~Authority();

    // 1: authorized, go on. 0: polkit asked; return 1 from the handler without replying,
    // it is called again with the same message once polkit has answered. <0: refused,
    // *ret set (org.alopex.Error.NotAuthorized).
    int check(sd_bus_message *m, const char *action, sd_bus_error *ret);
    // The same for several actions, all required, asked in order (one polkit query at a
    // time, the message re-dispatched after each answer); refused names the first action
    // polkit did not grant. The handler passes the same list on every run.
    int check(sd_bus_message *m, std::initializer_list<const char *> actions,
              sd_bus_error *ret);

    // Queries asked and not yet consumed (for tests and shutdown).
    std::size_t pending() const noexcept { return queries_.size(); }

private:
    struct Query {
        Authority *owner = nullptr;
        MessagePtr request;
        std::vector<std::string> actions;   // all the call needs, in order
        size_t current = 0;                 // the one polkit is (was last) asked about
        SlotPtr slot;
        bool done = false;
        Verdict verdict = Verdict::Denied;
        std::string failure;   // set when polkit could not be asked or answered an error
    };
    static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *) noexcept;
    int finish(Query &q, sd_bus_error *ret);
    // Asks polkit about q.actions[q.current]; <0 with *ret set when it cannot.
    int ask(Query &q, sd_bus_error *ret);

    sd_bus *bus_;
    std::map<sd_bus_message *, std::unique_ptr<Query>> queries_;
};

} // namespace alopex::polkit
