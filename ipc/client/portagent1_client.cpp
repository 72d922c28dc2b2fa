// SPDX-License-Identifier: GPL-2.0-or-later
#include "portagent1_client.hpp"

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/portagent1.hpp"
#include "alopex/ipc/portagent1_spec.hpp"

namespace alopex::ipc::portagent1 {

namespace m = api::method;

Result<std::vector<PortInfo>> list_ports(sd_bus *bus)
{
    using Row = std::tuple<std::string, bool, int64_t, int32_t, std::vector<uint16_t>, std::string, uint32_t, std::string>;
    ALOPEX_TRY(r, bus::blocking::call<std::vector<Row>>(bus, service, path, api::spec, m::ListPorts));
    std::vector<PortInfo> out;
    for (auto &[name, ours, ofport, tag, trunks, container, vmid, error] : std::get<0>(r))
        out.push_back({std::move(name), ours, ofport, tag, std::move(trunks), std::move(container), vmid,
                       std::move(error)});
    return out;
}

Result<std::vector<AttachResult>> attach_ports(sd_bus *bus, const std::vector<std::string> &names)
{
    using Row = std::tuple<std::string, int64_t, std::string>;
    ALOPEX_TRY(r, bus::blocking::call<std::vector<Row>>(bus, service, path, api::spec, m::AttachPorts, names));
    std::vector<AttachResult> out;
    for (auto &[name, ofport, error] : std::get<0>(r))
        out.push_back({std::move(name), ofport, std::move(error)});
    return out;
}

Result<> detach_port(sd_bus *bus, const std::string &name)
{
    ALOPEX_TRY_VOID(bus::blocking::call<>(bus, service, path, api::spec, m::DetachPort, name));
    return {};
}

Result<std::pair<std::string, int64_t>> create_container_interface(sd_bus *bus, const std::string &raw,
                                                                   const std::string &container, uint32_t vmid)
{
    ALOPEX_TRY(r, (bus::blocking::call<std::string, int64_t>(bus, service, path, api::spec,
                                                              m::CreateContainerInterface, raw, container, vmid)));
    return std::pair{std::get<0>(r), std::get<1>(r)};
}

Result<> remove_container_interface(sd_bus *bus, const std::string &name)
{
    ALOPEX_TRY_VOID(bus::blocking::call<>(bus, service, path, api::spec, m::RemoveContainerInterface, name));
    return {};
}

Result<std::vector<Change>> plan(sd_bus *bus)
{
    using Row = std::tuple<std::string, std::string, std::string>;
    ALOPEX_TRY(r, bus::blocking::call<std::vector<Row>>(bus, service, path, api::spec, m::Plan));
    std::vector<Change> out;
    for (auto &[action, port, detail] : std::get<0>(r))
        out.push_back({std::move(action), std::move(port), std::move(detail)});
    return out;
}

Result<std::pair<std::string, std::string>> migrate_uplink(sd_bus *bus, const std::string &bridge,
                                                           const std::string &nic, uint32_t timeout_s)
{
    ALOPEX_TRY(r, (bus::blocking::call<bus::ObjectPath, std::string>(bus, service, path, api::spec, m::MigrateUplink,
                                                                      bridge, nic, timeout_s)));
    return std::pair{std::get<0>(r).value, std::get<1>(r)};
}

Result<std::vector<std::string>> reload(sd_bus *bus)
{
    ALOPEX_TRY(r, bus::blocking::call<std::vector<std::string>>(bus, service, path, api::spec, m::Reload));
    return std::get<0>(r);
}

} // namespace alopex::ipc::portagent1
