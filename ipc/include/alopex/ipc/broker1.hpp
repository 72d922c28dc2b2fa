// SPDX-License-Identifier: GPL-2.0-or-later
// Names of org.alopex.Broker1, kept beside ipc/org.alopex.Broker1.xml; the integration
// test tests/integration/broker checks the running daemon's introspection against the XML.
#pragma once

namespace alopex::ipc::broker1 {
inline constexpr const char *service = "org.alopex.Broker1";
inline constexpr const char *path = "/org/alopex/Broker1";
inline constexpr const char *interface = "org.alopex.Broker1";
inline constexpr const char *xml_file = "org.alopex.Broker1.xml";
namespace method {
inline constexpr const char *Ping = "Ping";
inline constexpr const char *Version = "Version";
inline constexpr const char *OpenDevice = "OpenDevice";
inline constexpr const char *WriteManagedFile = "WriteManagedFile";
inline constexpr const char *WriteManagedBlock = "WriteManagedBlock";
inline constexpr const char *OpenOvsdb = "OpenOvsdb";
inline constexpr const char *Record = "Record";
} // namespace method
} // namespace alopex::ipc::broker1
