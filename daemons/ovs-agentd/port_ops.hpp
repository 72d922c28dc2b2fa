// SPDX-License-Identifier: GPL-2.0-or-later
// What ovs-agentd does to the database, as OVSDB operations built from its copy of it
// (ovsdb/replica.hpp), pure. Every transaction is guarded the way NetworkManager and
// ovs-vsctl guard theirs: it begins with a "wait" (timeout 0) that the bridge's ports
// are still the set the copy holds, so a transaction built on a stale view fails
// ("timed out", EAGAIN) instead of undoing someone else's change, and the caller builds
// it again on the fresh copy. It ends by bumping Open_vSwitch.next_cfg and selecting
// it, so the caller learns the configuration number whose cur_cfg says ovs-vswitchd
// has applied the change, and a comment naming what was done (ovsdb-server logs it).
//
// Ports the agent adds carry external_ids alopex-owner=ovs-agentd (and alopex-container,
// alopex-vmid when known); ports without it are never detached or changed (Proxmox
// plugs its own tap<vmid>i<n> ports).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"
#include "ovsdb/replica.hpp"

namespace alopex::ovs {

inline constexpr std::string_view owner_key = "alopex-owner", owner_value = "ovs-agentd";
inline constexpr std::string_view container_key = "alopex-container", vmid_key = "alopex-vmid";

// A port to attach: the interface's name and what is recorded with it.
struct PortSpec {
    std::string name;
    std::string container;            // "" when not known
    std::optional<uint32_t> vmid;
    std::optional<uint16_t> tag;      // VLAN access tag, 0..4095
    std::vector<uint16_t> trunks;     // VLANs a trunk port carries
    bool operator==(const PortSpec &) const = default;
};

// Proxmox's names: veth<vmid>i<n> (an LXC container's), tap<vmid>i<n> (a QEMU VM's),
// and the agent's own vi<vmid>; the VMID (100..999999999), or none.
std::optional<uint32_t> vmid_of(std::string_view ifname);

// The bridge's row and UUID in the copy, or null.
struct BridgeRef {
    ovsdb::Uuid uuid;
    const ovsdb::Row *row = nullptr;
};
BridgeRef find_bridge(const ovsdb::Replica &r, std::string_view name);
// The Port rows on `bridge` by name.
std::vector<std::pair<ovsdb::Uuid, const ovsdb::Row *>> bridge_ports(const ovsdb::Replica &r, const BridgeRef &bridge);
// Whether a Port row is the agent's (external_ids alopex-owner=ovs-agentd).
bool owned(const ovsdb::Row &port);
// A row's name column ("" when it has none).
std::string name_of(const ovsdb::Row &row);

// Attaching `ports` (new names, not on the bridge yet) to `bridge` as Port+Interface
// pairs, in one transaction. ENOENT when the bridge is not in the copy; EEXIST when a
// name is a port there already.
Result<nlohmann::json> attach_ops(const ovsdb::Replica &r, std::string_view bridge, const std::vector<PortSpec> &ports);
// Detaching the agent's ports `names` from `bridge` (their rows go with the reference,
// as the database collects unreferenced Port and Interface rows). A name that is not
// a port of the bridge is ENOENT; one that is not the agent's, EPERM.
Result<nlohmann::json> detach_ops(const ovsdb::Replica &r, std::string_view bridge, const std::vector<std::string> &names);
// Both in one transaction (a debounce window's changes): the inserts, then one mutate of
// the bridge's ports that adds and removes.
// `retag`: the agent's ports whose tag and trunks are set (an update of their Port rows).
Result<nlohmann::json> change_ops(const ovsdb::Replica &r, std::string_view bridge, const std::vector<PortSpec> &attach,
                                  const std::vector<std::string> &detach, const std::vector<PortSpec> &retag = {});
// Creating `bridge` (datapath "system" or "netdev") with its internal port, marked as the
// agent's; guarded by a wait that no bridge of that name exists yet.
nlohmann::json create_bridge_ops(std::string_view bridge, std::string_view datapath_type);
// MigrateUplink's mark on the bridge (external_ids alopex-migration = `text`; "" takes
// it away), so that a restarted agent still rolls back a migration nobody confirmed.
inline constexpr std::string_view migration_key = "alopex-migration";
Result<nlohmann::json> migration_mark_ops(const ovsdb::Replica &r, std::string_view bridge, std::string_view text);
// Deleting the agent's bridge (its ports and interfaces go with it); EPERM for a bridge
// the agent did not create.
Result<nlohmann::json> delete_bridge_ops(const ovsdb::Replica &r, std::string_view bridge);
// The next_cfg a transaction built here made (its select's result), or none.
std::optional<int64_t> next_cfg_of(const nlohmann::json &results);

// The columns of each table the agent monitors.
const ovsdb::MonitorSpec &monitored();

} // namespace alopex::ovs
