// SPDX-License-Identifier: GPL-2.0-or-later
// The structured values of org.alopex.Link1 (ipc/org.alopex.Link1.xml), shared by the
// server (linkd's getters) and the clients (ipc/client readers): the bus::Fields
// specializations make the codecs produce exactly the XML's signatures.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

#include "alopex/bus/codec.hpp"

namespace alopex::ipc::link1 {

// One entry of Link.Addresses, a(isysuuus).
struct AddressInfo {
    int32_t family = 0;             // AF_INET / AF_INET6
    std::string address;
    uint8_t prefixlen = 0;
    std::string scope;              // global | site | link | host
    uint32_t flags = 0;             // IFA_F_*
    uint32_t valid_lft = 0xffffffff, preferred_lft = 0xffffffff;
    std::string origin;             // static | dhcp | kernel | foreign
    bool operator==(const AddressInfo &) const = default;
};

} // namespace alopex::ipc::link1

template <> struct alopex::bus::Fields<alopex::ipc::link1::AddressInfo> {
    using T = alopex::ipc::link1::AddressInfo;
    static constexpr auto members = std::make_tuple(&T::family, &T::address, &T::prefixlen, &T::scope, &T::flags,
                                                    &T::valid_lft, &T::preferred_lft, &T::origin);
};
