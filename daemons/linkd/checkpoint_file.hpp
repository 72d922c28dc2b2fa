// SPDX-License-Identifier: GPL-2.0-or-later
// A pending checkpoint on disk ($STATE_DIRECTORY/checkpoint-<id>.json), so that a
// checkpoint outlives linkd: written (write_file_atomic) when it is created and when a
// netdev is created or deleted through linkd under it, removed on confirm or rollback,
// and read back at start, where an overdue one is rolled back after the first dump and
// the others get their timers again.
//
// Pure: record <-> text. The file is linkd's own, but it is read back as untrusted bytes:
// the text, every count and every number are bounded, names are interface names,
// addresses are addresses of their family; anything else makes the file invalid. The
// deadline is CLOCK_BOOTTIME and only means something in the boot that wrote it
// (boot_id): the caller compares both with the present (checkpoint.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "alopex/error.hpp"
#include "checkpoint.hpp"

namespace alopex::linkd {

struct CheckpointRecord {
    uint64_t id = 0;               // the object path's last component
    std::string boot_id;           // 32 lowercase hex digits (sd_id128 of this boot)
    uint64_t deadline_usec = 0;    // CLOCK_BOOTTIME
    CheckpointState state;
    NetdevLog netdevs;
    bool operator==(const CheckpointRecord &) const = default;
};

inline constexpr size_t max_checkpoint_file = 32 * 1024 * 1024;
inline constexpr size_t max_checkpoint_links = 65536;
inline constexpr size_t max_checkpoint_addresses = 262144;
inline constexpr size_t max_checkpoint_routes = 262144;
// Ids and deadlines far beyond anything linkd makes (2^53: exact in any JSON reader).
inline constexpr uint64_t max_checkpoint_number = uint64_t{1} << 53;

std::string format_checkpoint(const CheckpointRecord &r);
// The error (EINVAL) names the part that is wrong ("addresses[2]: prefixlen 40 > 32").
Result<CheckpointRecord> parse_checkpoint(std::string_view text);

// "checkpoint-<id>.json" and back (nullopt for any other name).
std::string checkpoint_file_name(uint64_t id);
std::optional<uint64_t> checkpoint_file_id(std::string_view name);

} // namespace alopex::linkd
