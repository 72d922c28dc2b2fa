// SPDX-License-Identifier: GPL-2.0-or-later
// broker.toml: the static table of who may do what. See alopex-broker.toml(5).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "block_validator.hpp"

namespace alopex::broker {

inline constexpr uint64_t default_max_contents = 1u << 20;
inline constexpr uint64_t max_max_contents = 16u << 20;
inline constexpr const char *default_ovsdb_socket = "/run/openvswitch/db.sock";
// Record calls per caller (uid): a token bucket of record_burst tokens refilled at
// record_rate per second (see rate_limit.hpp).
inline constexpr uint32_t default_record_rate = 64;
inline constexpr uint32_t default_record_burst = 512;
inline constexpr uint32_t max_record_limit = 65536;

struct DeviceRule {
    std::string glob; // fnmatch(FNM_PATHNAME), absolute
    std::vector<uid_t> callers;
};

struct FileRule {
    std::string id;
    std::filesystem::path path;
    std::vector<uid_t> callers;
    mode_t mode = 0644; // for a file that does not exist yet
    std::optional<Validator> validator;   // what the file may hold (none: anything)
};

struct BlockRule {
    std::string id;
    std::filesystem::path path;
    std::vector<uid_t> callers;
    std::string tag;     // the markers are "# BEGIN <tag>" / "# END <tag>"
    Validator validator; // what the block may hold
};

struct OvsdbRule {
    std::filesystem::path socket = default_ovsdb_socket;
    std::vector<uid_t> callers;
};

struct Config {
    std::string source; // file it was loaded from
    std::optional<std::filesystem::path> ledger_path;
    uint64_t max_contents = default_max_contents;
    uint32_t record_rate = default_record_rate;
    uint32_t record_burst = default_record_burst;
    std::vector<DeviceRule> devices;
    std::vector<FileRule> files;
    std::vector<BlockRule> blocks;
    std::optional<OvsdbRule> ovsdb;
    std::vector<uid_t> record_callers;
};

// Resolves a user name to a uid; nullopt if unknown.
using UserResolver = std::function<std::optional<uid_t>(const std::string &)>;
// getpwnam_r.
std::optional<uid_t> resolve_user_nss(const std::string &name);

// Parses broker.toml text; `file` names it in errors ("file:line:col: message").
Result<Config> parse_config(std::string_view text, std::string file, const UserResolver &users);
// Reads and parses a file, resolving users with getpwnam_r.
Result<Config> load_config(const std::filesystem::path &p);

// Ids and tags: 1..64 bytes of [A-Za-z0-9._:@-].
bool valid_name(std::string_view s);

} // namespace alopex::broker
