// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-ovs-hook-state: the OCI state alopex-ovs-hook reads on stdin. Whatever comes: no
// crash, and a state taken has an id, a status and, unless stopped, a positive pid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    auto s = alopex::ovs_hook::parse_oci_state(std::string_view(reinterpret_cast<const char *>(data), size));
    if (s && (s->status != "stopped" && s->pid <= 0))
        abort();
    return 0;
}
