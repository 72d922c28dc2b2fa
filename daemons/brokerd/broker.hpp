// SPDX-License-Identifier: GPL-2.0-or-later
// The broker's operations, independent of D-Bus: decide by the table, act, journal every
// call, and append every allowed mutating one to the ledger.
//
// Ledger policy: the writer is opened at start and again on demand; a last line torn by a
// crash is cut under a record of the cut (broker.ledger-cut). While the ledger cannot be
// opened (unwritable, locked, or its last complete line is corrupt) every mutating
// operation is refused with IOError before anything changes; the broker never extends a
// broken chain. Fds (OpenDevice, OpenOvsdb) are handed out only after their record was
// appended. File writes record their intent (with the new bytes' SHA-256) before the
// file changes and their completion after the rename (or .failed when the write failed):
// a kill in between leaves the intent. If the completion append fails the call returns
// IOError saying the file was written but its completion not recorded (logged at err).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "alopex/config.hpp"
#include "alopex/error.hpp"
#include "alopex/fd.hpp"
#include "alopex/ledger.hpp"
#include "config.hpp"
#include "managed_file.hpp"
#include "rate_limit.hpp"

namespace alopex::broker {

class Broker {
public:
    // Nanoseconds of a monotonic clock (Record's rate limit); CLOCK_MONOTONIC when empty.
    using Clock = std::function<uint64_t()>;

    // `config_file` is broker.toml; `state_dir` holds the default ledger.jsonl.
    Broker(std::filesystem::path config_file, std::filesystem::path state_dir,
           Clock clock = {});

    // Loads broker.toml (first load or SIGHUP). On failure the previous table stays in
    // force and the error ("file:line:col: message") is returned.
    Result<void> reload();
    bool has_config() const { return cfg_.has_value(); }
    const Config &config() const { return *cfg_; }
    std::filesystem::path ledger_path() const;
    // Opens the ledger now (also done lazily); the error says why mutations are refused.
    Result<void> open_ledger();

    void ping(uid_t uid);
    std::string version(uid_t uid);
    Result<Fd> open_device(uid_t uid, std::string_view path);
    Result<void> write_file(uid_t uid, std::string_view id, std::string_view contents);
    Result<void> write_block(uid_t uid, std::string_view id, std::string_view tag,
                             std::string_view contents);
    Result<Fd> open_ovsdb(uid_t uid);
    Result<Fd> open_ovs_bridge(uid_t uid, std::string_view bridge);
    Result<void> record(uid_t uid, std::string_view action, std::string_view details);

    // "name" of the uid's user, or "uid:N".
    static std::string actor_name(uid_t uid);

    // Tests only: called at named points of an operation ("written": a managed file was
    // renamed into place, its completion not yet recorded), e.g. to simulate a kill.
    void set_test_hook(std::function<void(std::string_view)> hook) { test_hook_ = std::move(hook); }

private:
    Result<ledger::Writer *> writer();
    Result<void> append(uid_t uid, std::string action, std::string details);
    // OpenOvsdb, OpenOvsBridge: a connection to `socket`, recorded as broker.OP.
    Result<Fd> connect_recorded(uid_t uid, std::string_view op, const std::string &socket);
    // broker.<op>.intent, the atomic write, then broker.<op> (or broker.<op>.failed).
    Result<void> write_recorded(uid_t uid, std::string_view op, const ManagedTarget &target,
                                std::string_view bytes, mode_t mode, const std::string &details);

    std::filesystem::path config_file_;
    std::filesystem::path state_dir_;
    config::LastGood<Config> cfg_;
    std::optional<ledger::Writer> writer_;
    Clock clock_;
    TokenBuckets record_limit_;
    std::function<void(std::string_view)> test_hook_;
};

} // namespace alopex::broker
