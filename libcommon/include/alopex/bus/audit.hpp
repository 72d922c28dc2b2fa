// SPDX-License-Identifier: GPL-2.0-or-later
// What a daemon puts in the audit ledger about a D-Bus method call that changed something:
// who called (EUID from the bus, never augmented from /proc) and the call's arguments as
// JSON, named as the XML names them.
//
//   if (run(c, req))
//       recorder.record("link.SetMtu", bus::call_details(c));
//   // {"sender":":1.42","uid":0,"args":{"ifindex":3,"mtu":1400}}
#pragma once

#include <sys/types.h>

#include <string>

#include <systemd/sd-bus.h>

#include "alopex/bus/call.hpp"
#include "alopex/bus/spec.hpp"
#include "alopex/error.hpp"

namespace alopex::bus {

// The caller's EUID from its bus credentials (sd_bus_query_sender_creds); one that sd-bus
// could only learn by augmenting from /proc is refused (NotAuthorized).
Result<uid_t> sender_euid(sd_bus_message *m);

// The arguments of `m` as a JSON object text keyed by `spec`'s input names: integers as
// numbers, booleans, strings and object paths as strings, arrays as arrays, a{..} as
// objects (keys as text), structs as arrays, variants as their value; a file descriptor as
// null. Reads from the start of the message and rewinds it again.
std::string arguments_json(sd_bus_message *m, const MethodSpec &spec);

// {"sender":..., "uid":... (null when unknown), "args":{...}} for the call, with
// "result": `result_json` (a JSON value's text) when given.
std::string call_details(const Call &c, std::string_view result_json = {});

} // namespace alopex::bus
