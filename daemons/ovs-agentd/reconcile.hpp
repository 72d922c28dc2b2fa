// SPDX-License-Identifier: GPL-2.0-or-later
// Deciding and confirming, pure. plan(): what the bridge should hold given the links the
// kernel has (the rtnetlink monitor's names) and what was asked over D-Bus (Requests): a
// link that is no port of any bridge is attached when its name has one of the
// configured prefixes (unless DetachPort excluded it) or AttachPort asked for it; a port
// of the agent's is detached when its link is gone or it is excluded; everything else
// is left as it is (ports without the agent's mark, and links another bridge has
// taken, reported). The agent's ports stay while their links do, so what was attached
// on request survives a restart of the agent (the database remembers it).
//
// Confirmation, the way ovs-vsctl waits: a transaction's change is in force once
// ovs-vswitchd has applied its configuration (Open_vSwitch.cur_cfg reached the
// next_cfg the transaction made) and then each attached interface has an ofport; an
// interface ovs-vswitchd could not open has ofport -1 and says why in its error column.
// A change not confirmed by its deadline fails (ovs-vswitchd not running, or stuck).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ovsdb/replica.hpp"
#include "port_ops.hpp"
#include "settings.hpp"

namespace alopex::ovs {

struct Plan {
    std::vector<PortSpec> attach;         // by name, with the VLANs `vlans` gives them
    std::vector<std::string> detach;      // the agent's ports whose links are gone
    std::vector<PortSpec> retag;          // the agent's ports whose VLANs differ from `vlans`
    std::vector<std::string> elsewhere;   // matching links that are ports of another bridge
    bool empty() const noexcept { return attach.empty() && detach.empty() && retag.empty(); }
};

// What was asked on top of the prefixes.
struct Requests {
    std::map<std::string, PortSpec, std::less<>> attach;   // attach these links, with what to record
    std::set<std::string, std::less<>> exclude;            // leave these off (DetachPort)
};

// `vlans`: the configured tag and trunks by port name ([ports.NAME]); a port without an
// entry keeps what it has.
Plan plan(const ovsdb::Replica &r, std::string_view bridge, const std::set<std::string> &links,
          const std::vector<std::string> &prefixes, const std::map<std::string, VlanSettings, std::less<>> &vlans = {},
          const Requests &requests = {});

// The interfaces of one transaction, confirmed or not.
struct Outcome {
    std::vector<std::pair<std::string, int64_t>> attached;        // name, ofport
    std::vector<std::pair<std::string, std::string>> failed;      // name, why
    bool timed_out = false;                                       // cur_cfg did not reach the transaction's
};

class Confirmations {
public:
    using Done = std::function<void(Outcome)>;
    // The transaction made configuration `cfg` and attached `interfaces`; `done` once it
    // is in force (check() sees it), or at `deadline` (advance()).
    void expect(int64_t cfg, std::vector<std::string> interfaces, uint64_t deadline, Done done);
    // After every update of the copy (and after expect()).
    void check(const ovsdb::Replica &r);
    // Fails what passed its deadline unsettled; next_deadline() says when to call again.
    void advance(uint64_t now);
    uint64_t next_deadline() const noexcept;
    size_t waiting() const noexcept { return waiting_.size(); }

private:
    struct Waiting {
        int64_t cfg;
        std::vector<std::string> interfaces;
        uint64_t deadline;
        Done done;
    };
    using Index = std::map<std::string, const ovsdb::Row *, std::less<>>;   // interfaces by name
    static Index index(const ovsdb::Replica &r);
    static bool settled(const ovsdb::Replica &r, const Index &by_name, const Waiting &w, Outcome &out);
    std::vector<Waiting> waiting_;
};

} // namespace alopex::ovs
