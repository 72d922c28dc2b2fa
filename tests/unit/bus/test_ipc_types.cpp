// SPDX-License-Identifier: GPL-2.0-or-later
// The structs shared by the suite's servers and clients have exactly the signatures
// ipc/*.xml gives their properties and method arguments.
#include <catch2/catch.hpp>

#include "alopex/ipc/firewall1_spec.hpp"
#include "alopex/ipc/firewall1_types.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/ipc/link1_types.hpp"

using namespace alopex;
namespace f1 = ipc::firewall1;
namespace l1 = ipc::link1;

TEST_CASE("ipc structs carry the XML's signatures")
{
    CHECK(bus::signature_of<std::vector<l1::AddressInfo>>() == l1::link::property::Addresses.signature);
    CHECK(bus::signature_of<std::vector<f1::ZoneInfo>>() == f1::api::property::Zones.signature);
    CHECK(bus::signature_of<std::vector<f1::RuleInfo>>() == f1::api::property::Rules.signature);
    CHECK(bus::signature_of<std::vector<f1::LatencyBucket>>() == f1::api::property::LatencyHistogram.signature);
    CHECK(bus::signature_of<std::vector<f1::RuntimeRuleInfo>>() == f1::api::method::ListRuntimeRules.out);
    CHECK(bus::signature_of<std::vector<f1::CounterInfo>>() == f1::api::method::GetCounters.out);
}
