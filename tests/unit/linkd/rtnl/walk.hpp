// SPDX-License-Identifier: GPL-2.0-or-later
// Reading built requests back: the messages of a buffer and their attributes.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "rtnl.hpp"

namespace alopex::linkd::rtnl::test {

// Builds `r` (which must succeed) into a fresh buffer holding exactly one message.
std::vector<std::byte> one(const Request &r, uint32_t seq = 7);

// The messages of a buffer, every length checked; fails the test on a malformed buffer.
std::vector<const nlmsghdr *> messages(std::span<const std::byte> buf);

// Attributes from `start` to `end` (top level after a fixed header, or a nest's payload),
// by type; fails the test on a malformed or duplicated attribute.
using Attrs = std::map<uint16_t, std::span<const std::byte>>;
Attrs attrs(const std::byte *start, const std::byte *end);
Attrs attrs_after(const nlmsghdr *h, size_t header);
Attrs nested(std::span<const std::byte> payload, size_t header = 0);

uint32_t u32(std::span<const std::byte> a);
uint16_t u16(std::span<const std::byte> a);
uint8_t u8(std::span<const std::byte> a);
std::string str(std::span<const std::byte> a);   // up to the NUL, which must be there
std::string ip(int family, std::span<const std::byte> a);

template <typename T> const T &header(const nlmsghdr *h) { return *static_cast<const T *>(NLMSG_DATA(h)); }

// For the refusal tests: the error of building `r` into a buffer that must stay untouched.
Error refused(const Request &r);

} // namespace alopex::linkd::rtnl::test
