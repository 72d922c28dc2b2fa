// SPDX-License-Identifier: GPL-2.0-or-later
#include "hook.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace alopex::ovs_hook {

namespace {

constexpr size_t max_state = 1 << 20;

bool digits(std::string_view s)
{
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

} // namespace

Result<Invocation> parse_command_line(std::span<const std::string_view> args)
{
    if (args.size() == 1 && args[0] == "oci")
        return Invocation{Invocation::Kind::oci, 0, "", true};
    if (args.size() != 2)
        return failf(EINVAL, "usage: alopex-ovs-hook VMID PHASE (a Proxmox hookscript) | alopex-ovs-hook oci");
    uint32_t vmid = 0;
    std::string_view v = args[0];
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), vmid);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || vmid < 100 || vmid > 999'999'999)
        return failf(EINVAL, "VMID: 100 to 999999999, not '{}'", v.substr(0, 32));
    std::string_view phase = args[1];
    if (phase != "pre-start" && phase != "post-start" && phase != "pre-stop" && phase != "post-stop")
        return failf(EINVAL, "PHASE: pre-start, post-start, pre-stop or post-stop, not '{}'", phase.substr(0, 32));
    return Invocation{Invocation::Kind::proxmox, vmid, std::string(phase), phase == "post-start"};
}

Result<OciState> parse_oci_state(std::string_view text)
{
    if (text.size() > max_state)
        return failf(E2BIG, "the OCI state on stdin is over {} bytes", max_state);
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return failf(EINVAL, "the OCI state on stdin is not a JSON object");
    OciState s;
    auto text_of = [&](const char *key) -> Result<std::string> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string())
            return failf(EINVAL, "the OCI state has no \"{}\" string", key);
        return it->get<std::string>();
    };
    ALOPEX_TRY(id, text_of("id"));
    ALOPEX_TRY(status, text_of("status"));
    s.id = std::move(id);
    s.status = std::move(status);
    auto pid = j.find("pid");
    if (pid != j.end() && pid->is_number_integer() && pid->get<int64_t>() > 0 && pid->get<int64_t>() < (1 << 22))
        s.pid = static_cast<int>(pid->get<int64_t>());
    else if (s.status != "stopped")
        return failf(EINVAL, "the OCI state has no \"pid\" of a running container");
    return s;
}

std::vector<std::string> guest_links(uint32_t vmid, const std::vector<std::string> &links)
{
    std::string id = std::to_string(vmid);
    std::vector<std::string> out;
    for (const auto &l : links) {
        std::string_view n = l;
        bool ours = false;
        for (std::string_view prefix : {"veth", "tap"})
            if (n.starts_with(prefix) && n.substr(prefix.size()).starts_with(id + "i"))
                ours = digits(n.substr(prefix.size() + id.size() + 1));
        if (n.starts_with("vi" + id)) {
            auto rest = n.substr(2 + id.size());
            ours = rest.empty() || (rest[0] == '_' && digits(rest.substr(1)));
        }
        if (ours)
            out.push_back(l);
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace alopex::ovs_hook
