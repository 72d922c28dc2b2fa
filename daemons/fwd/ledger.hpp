// SPDX-License-Identifier: GPL-2.0-or-later
// fwd's records in the suite's audit ledger (org.alopex.Broker1.Record, written by the
// broker): every mutating action — each D-Bus method that changed something (with the
// caller's uid and the arguments), Reload (D-Bus or SIGHUP), panic on/off, the expiry of
// runtime rules. Records go through broker1::Recorder: queued (bounded), sent one at a
// time in order, never blocking the loop or failing the action; while the broker is away
// they wait, and what the queue could not hold is counted and recorded when it is back.
//
// Actions are "fw.<Method>" (fw.AddRule, fw.RemoveRule, fw.SetInterfaceZone, fw.Panic,
// fw.Reload) and fw.expire; details are one JSON object. A D-Bus caller's uid is asked of
// the bus daemon asynchronously (GetConnectionUnixUser) — never from /proc, never with a
// blocking call — and the record is queued once it answers ("uid": null and "sender" if
// the caller was gone by then).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/client.hpp"
#include "alopex/error.hpp"

namespace alopex::ipc::broker1 {
class Recorder;
}

namespace alopex::fwd {

using LedgerValue = std::variant<std::string, uint64_t, bool, std::vector<uint64_t>>;
using LedgerFields = std::vector<std::pair<std::string, LedgerValue>>;

// `fields` as one JSON object, in the given order (pure; unit-tested).
std::string ledger_details(const LedgerFields &fields);

// Non-movable: callbacks point at it.
class Ledger {
public:
    static Result<std::unique_ptr<Ledger>> create(sd_bus *bus, sd_event *event);
    ~Ledger();
    Ledger(const Ledger &) = delete;
    Ledger &operator=(const Ledger &) = delete;

    // An action of the D-Bus caller `sender` (a unique name): "sender" and "uid" come
    // first in the details, then `fields`.
    void caller_action(std::string_view sender, std::string action, LedgerFields fields);
    // An action of fwd's own (expiry, SIGHUP).
    void action(std::string action, LedgerFields fields);

    const ipc::broker1::Recorder &recorder() const noexcept { return *recorder_; }

private:
    explicit Ledger(sd_bus *bus);
    bus::Calls calls_;
    std::unique_ptr<ipc::broker1::Recorder> recorder_;
};

} // namespace alopex::fwd
