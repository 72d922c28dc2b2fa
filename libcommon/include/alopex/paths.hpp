// SPDX-License-Identifier: GPL-2.0-or-later
// Runtime paths come from systemd's environment; nothing is hard-wired beyond defaults.
#pragma once

#include <filesystem>
#include <string_view>

#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::paths {

// $CONFIGURATION_DIRECTORY (first entry), else /etc/alopex.
std::filesystem::path config_dir();
// $STATE_DIRECTORY (first entry), else /var/lib/alopex/<daemon>.
std::filesystem::path state_dir(std::string_view daemon);
// $RUNTIME_DIRECTORY (first entry), else /run/alopex/<daemon>.
std::filesystem::path runtime_dir(std::string_view daemon);

// The system bus; sd-bus honours $DBUS_SYSTEM_BUS_ADDRESS.
Result<BusPtr> open_system_bus();

} // namespace alopex::paths
