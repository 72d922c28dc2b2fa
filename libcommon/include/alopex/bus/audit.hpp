// SPDX-License-Identifier: GPL-2.0-or-later
// What a daemon puts in the audit ledger about a D-Bus method call that changed something:
// who called (EUID from the bus, never augmented from /proc) and the call's arguments as
// JSON, named as the XML names them.
//
//   bus::call_details_async(c, {}, [&recorder](std::string d) { recorder.record("link.SetMtu", d); });
//   // {"sender":":1.42","uid":0,"args":{"ifindex":3,"mtu":1400}}
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include <systemd/sd-bus.h>

#include "alopex/bus/call.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"

namespace alopex::bus {

// The caller's EUID without waiting: the bus daemon is asked (GetConnectionUnixUser: the
// SO_PEERCRED EUID of the caller's connection, as GetConnectionCredentials, which
// sd_bus_query_sender_creds calls and waits for, would say; never read from /proc) and `done` gets the EUID from
// the event loop, or NotAuthorized when the bus could not tell. Ask before the call's
// reply, while the caller waits and so is connected. Not called if the connection goes
// away first.
void sender_euid_async(sd_bus_message *m, std::function<void(Result<uid_t>)> done);

// The arguments of `m` as a JSON object text keyed by `spec`'s input names: integers as
// numbers, booleans, strings and object paths as strings, arrays as arrays, a{..} as
// objects (keys as text), structs as arrays, variants as their value; a file descriptor as
// null. Reads from the start of the message and rewinds it again.
std::string arguments_json(sd_bus_message *m, const MethodSpec &spec);

// {"sender":..., "uid":... (null when unknown), "args":{...}} for the call, with
// "result": `result_json` (a JSON value's text) when given, without waiting: the
// arguments are read now, the caller's uid is asked of the bus now (GetConnectionUnixUser; call this before the call's reply, while the caller
// still waits and so is connected), and `done` gets the details from the event loop when
// the bus has answered (uid null if it could not tell), or at once if the question could
// not be sent. Not called if the connection goes away first.
void call_details_async(const Call &c, std::string_view result_json, std::function<void(std::string)> done);

} // namespace alopex::bus
