// SPDX-License-Identifier: GPL-2.0-or-later
// Where org.alopex.Broker1 lives. Its interface (methods, their arguments) is generated
// from ipc/org.alopex.Broker1.xml into alopex/ipc/broker1_spec.hpp (ipc::broker1::api);
// the integration test tests/integration/broker checks the running daemon's
// introspection against the XML.
#pragma once

namespace alopex::ipc::broker1 {
inline constexpr const char *service = "org.alopex.Broker1";
inline constexpr const char *path = "/org/alopex/Broker1";
inline constexpr const char *xml_file = "org.alopex.Broker1.xml";
} // namespace alopex::ipc::broker1
