// SPDX-License-Identifier: GPL-2.0-or-later
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "alopex-config.h"
#include "alopex/file.hpp"
#include "alopex/log.hpp"
#include "alopex/net.hpp"
#include "block_validator.hpp"
#include "broker.hpp"
#include "device.hpp"
#include "managed_block.hpp"
#include "managed_file.hpp"
#include "alopex/unix_socket.hpp"
#include "policy.hpp"

namespace alopex::broker {

namespace {

// Largest target file WriteManagedBlock will read.
constexpr uint64_t max_block_file = 64u << 20;

template <typename T> std::unexpected<Error> forward(Result<T> &r)
{
    return std::unexpected<Error>(std::move(r.error()));
}

std::string result_name(const Error &e)
{
    return e.bus_name.empty() ? std::string(bus_error::Internal) : e.bus_name;
}

// Journals one call: ALOPEX_OP, ALOPEX_CALLER_UID, ALOPEX_ID, ALOPEX_RESULT.
template <typename T>
void journal(std::string_view op, uid_t uid, std::string_view id_in, const Result<T> &r)
{
    // Arguments are caller-controlled: keep the journal entry bounded.
    std::string id(id_in.substr(0, 256));
    if (id_in.size() > 256)
        id += "...";
    std::string uid_s = std::to_string(uid);
    if (r) {
        log::info({{"ALOPEX_OP", std::string(op)}, {"ALOPEX_CALLER_UID", uid_s},
                   {"ALOPEX_ID", std::string(id)}, {"ALOPEX_RESULT", "ok"}},
                  "{} by uid {} ({}): allowed", op, uid, id);
        return;
    }
    const Error &e = r.error();
    std::string name = result_name(e);
    bool failure = name == bus_error::IOError || name == bus_error::Internal;
    log::at(failure ? log::Level::err : log::Level::notice,
            {{"ALOPEX_OP", std::string(op)}, {"ALOPEX_CALLER_UID", uid_s},
             {"ALOPEX_ID", std::string(id)}, {"ALOPEX_RESULT", name}},
            "{} by uid {} ({}): {}: {}", op, uid, id, name, e.to_string());
}

// Internal errors that must surface with a bus name.
Error as_io(Error e)
{
    if (e.bus_name.empty())
        e.bus_name = bus_error::IOError;
    return e;
}

uint64_t monotonic_ns()
{
    struct timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace

Broker::Broker(std::filesystem::path config_file, std::filesystem::path state_dir, Clock clock)
    : config_file_(std::move(config_file)), state_dir_(std::move(state_dir)),
      clock_(clock ? std::move(clock) : Clock(monotonic_ns)),
      record_limit_(default_record_rate, default_record_burst)
{
}

Result<void> Broker::reload()
{
    auto old_ledger = cfg_.has_value() ? std::optional(ledger_path()) : std::nullopt;
    auto r = cfg_.update(load_config(config_file_));
    if (!r)
        return r;
    if (old_ledger && *old_ledger != ledger_path())
        writer_.reset(); // reopened at the new path on demand
    record_limit_.configure(cfg_->record_rate, cfg_->record_burst);
    return {};
}

std::filesystem::path Broker::ledger_path() const
{
    if (cfg_.has_value() && cfg_->ledger_path)
        return *cfg_->ledger_path;
    return state_dir_ / "ledger.jsonl";
}

Result<ledger::Writer *> Broker::writer()
{
    if (writer_ && !writer_->broken())
        return &*writer_;
    writer_.reset();
    // A last line torn by a crash (or a full disk) is cut, under a record of the cut.
    ledger::OpenOptions repair{actor_name(geteuid()), "broker.ledger-cut"};
    auto w = ledger::Writer::open(ledger_path(), repair);
    if (!w)
        return std::unexpected<Error>(
            as_io(Error{w.error().code, "ledger unavailable, refusing changes: " +
                                            w.error().message, bus_error::IOError}));
    writer_.emplace(std::move(*w));
    if (writer_->cut_bytes() > 0)
        log::warning({{"ALOPEX_LEDGER", ledger_path().string()}},
                     "{}: cut {} bytes of a torn last line, recorded as seq {}",
                     ledger_path().string(), writer_->cut_bytes(), writer_->last_seq());
    return &*writer_;
}

Result<void> Broker::open_ledger()
{
    auto w = writer();
    if (!w)
        return forward(w);
    return {};
}

Result<void> Broker::append(uid_t uid, std::string action, std::string details)
{
    auto w = writer();
    if (!w)
        return forward(w);
    auto r = (*w)->append(actor_name(uid), std::move(action), std::move(details));
    if (!r)
        return std::unexpected<Error>(as_io(Error{r.error().code,
                                                  "ledger append failed: " + r.error().message,
                                                  bus_error::IOError}));
    return {};
}

std::string Broker::actor_name(uid_t uid)
{
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 4096);
    for (;;) {
        struct passwd pw{};
        struct passwd *res = nullptr;
        int r = getpwuid_r(uid, &pw, buf.data(), buf.size(), &res);
        if (r == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (r == 0 && res && res->pw_name && *res->pw_name)
            return res->pw_name;
        return "uid:" + std::to_string(uid);
    }
}

void Broker::ping(uid_t uid) { journal("Ping", uid, "", Result<void>{}); }

std::string Broker::version(uid_t uid)
{
    journal("Version", uid, "", Result<void>{});
    return ALOPEX_VERSION;
}

Result<Fd> Broker::open_device(uid_t uid, std::string_view path)
{
    auto run = [&]() -> Result<Fd> {
        if (!cfg_.has_value())
            return bus_fail(bus_error::Internal, "no configuration loaded");
        auto rule = allow_device(*cfg_, uid, path);
        if (!rule)
            return forward(rule);
        if (auto w = writer(); !w)
            return forward(w);
        auto fd = broker::open_device(std::filesystem::path(std::string(path)), (*rule)->glob);
        if (!fd)
            return fd;
        if (auto a = append(uid, "broker.OpenDevice", fmt::format("path={}", path)); !a)
            return forward(a); // the fd closes here: nothing unrecorded is handed out
        return fd;
    };
    auto r = run();
    journal("OpenDevice", uid, path, r);
    return r;
}

Result<void> Broker::write_recorded(uid_t uid, std::string_view op, const ManagedTarget &target,
                                    std::string_view bytes, mode_t mode,
                                    const std::string &details)
{
    const std::string action = fmt::format("broker.{}", op);
    const std::string path = target.dir_name + "/" + target.name;
    // Intent first: a kill after the rename below leaves this record, naming the new
    // contents' SHA-256, so no change of a managed file goes unrecorded.
    if (auto a = append(uid, action + ".intent", details); !a)
        return a;
    auto w = write_file_atomic_at(target.dir.get(), target.dir_name, target.name, bytes,
                                  AtomicWrite{.mode = mode});
    if (!w) {
        if (auto a = append(uid, action + ".failed",
                            fmt::format("{} error={}", details, w.error().message));
            !a)
            log::err("{}: the failure of a write was not recorded: {}", path,
                     a.error().to_string());
        return w;
    }
    if (test_hook_)
        test_hook_("written");
    if (auto a = append(uid, action, details); !a)
        return bus_fail(bus_error::IOError,
                        "{} was written (its intent is recorded) but its completion was not "
                        "recorded: {}",
                        path, a.error().message);
    return {};
}

Result<void> Broker::write_file(uid_t uid, std::string_view id, std::string_view contents)
{
    auto run = [&]() -> Result<void> {
        if (!cfg_.has_value())
            return bus_fail(bus_error::Internal, "no configuration loaded");
        auto cfg = cfg_.snapshot();
        auto rule = allow_file(*cfg, uid, id);
        if (!rule)
            return forward(rule);
        if (contents.size() > cfg->max_contents)
            return bus_fail(bus_error::TooLarge, "contents: {} bytes, at most {}",
                            contents.size(), cfg->max_contents);
        if ((*rule)->validator)
            if (auto v = validate_block(*(*rule)->validator, contents); !v)
                return forward(v);
        if (auto w = writer(); !w)
            return forward(w);
        auto target = open_target((*rule)->path);
        if (!target)
            return forward(target);
        auto details = fmt::format("id={} path={} bytes={} sha256={}", id,
                                   (*rule)->path.string(), contents.size(),
                                   ledger::sha256_hex(contents));
        return write_recorded(uid, "WriteManagedFile", *target, contents, (*rule)->mode, details);
    };
    auto r = run();
    journal("WriteManagedFile", uid, id, r);
    return r;
}

Result<void> Broker::write_block(uid_t uid, std::string_view id, std::string_view tag,
                                 std::string_view contents)
{
    auto run = [&]() -> Result<void> {
        if (!cfg_.has_value())
            return bus_fail(bus_error::Internal, "no configuration loaded");
        auto cfg = cfg_.snapshot();
        auto rule = allow_block(*cfg, uid, id);
        if (!rule)
            return forward(rule);
        if (contents.size() > cfg->max_contents)
            return bus_fail(bus_error::TooLarge, "contents: {} bytes, at most {}",
                            contents.size(), cfg->max_contents);
        if (auto t = validate_tag(tag); !t)
            return t;
        // The tag is bound to the id in broker.toml: a caller cannot reach another block.
        if (tag != (*rule)->tag)
            return bus_fail(bus_error::InvalidArgument, "tag: block '{}' has tag '{}', not '{}'",
                            id, (*rule)->tag, tag);
        if (auto m = check_no_markers(contents); !m)
            return m;
        if (auto v = validate_block((*rule)->validator, contents); !v)
            return v;
        if (auto w = writer(); !w)
            return forward(w);
        auto target = open_target((*rule)->path);
        if (!target)
            return forward(target);
        auto old = read_target(*target, max_block_file);
        if (!old)
            return forward(old);
        auto edited = replace_block(*old, (*rule)->tag, contents);
        if (!edited)
            return forward(edited);
        auto details = fmt::format("id={} tag={} path={} bytes={} sha256={} file_sha256={}", id,
                                   tag, (*rule)->path.string(), contents.size(),
                                   ledger::sha256_hex(contents), ledger::sha256_hex(*edited));
        // Written through the directory fd it was read from.
        return write_recorded(uid, "WriteManagedBlock", *target, *edited, 0644, details);
    };
    auto r = run();
    journal("WriteManagedBlock", uid, fmt::format("{} tag={}", id, tag), r);
    return r;
}

Result<Fd> Broker::open_ovsdb(uid_t uid)
{
    std::string socket;
    auto run = [&]() -> Result<Fd> {
        if (!cfg_.has_value())
            return bus_fail(bus_error::Internal, "no configuration loaded");
        auto rule = allow_ovsdb(*cfg_, uid);
        if (!rule)
            return forward(rule);
        socket = (*rule)->socket.string();
        return connect_recorded(uid, "OpenOvsdb", socket);
    };
    auto r = run();
    journal("OpenOvsdb", uid, socket, r);
    return r;
}

Result<Fd> Broker::open_ovs_bridge(uid_t uid, std::string_view bridge)
{
    std::string socket;
    auto run = [&]() -> Result<Fd> {
        if (!cfg_.has_value())
            return bus_fail(bus_error::Internal, "no configuration loaded");
        if (!net::valid_ifname(bridge))   // no '/', not "." or "..": a name in the socket's directory
            return bus_fail(bus_error::InvalidArgument, "bridge: not a bridge name: {}", net::quoted(bridge));
        auto rule = allow_ovsdb(*cfg_, uid);
        if (!rule)
            return forward(rule);
        socket = ((*rule)->socket.parent_path() / (std::string(bridge) + ".mgmt")).string();
        return connect_recorded(uid, "OpenOvsBridge", socket);
    };
    auto r = run();
    journal("OpenOvsBridge", uid, socket.empty() ? std::string(bridge.substr(0, 32)) : socket, r);
    return r;
}

Result<Fd> Broker::connect_recorded(uid_t uid, std::string_view op, const std::string &socket)
{
    if (auto w = writer(); !w)
        return forward(w);
    auto fd = connect_unix(socket);
    if (!fd)
        return fd;
    if (auto a = append(uid, fmt::format("broker.{}", op), "socket=" + socket); !a)
        return forward(a);
    return fd;
}

Result<void> Broker::record(uid_t uid, std::string_view action, std::string_view details)
{
    auto run = [&]() -> Result<void> {
        if (!cfg_.has_value())
            return bus_fail(bus_error::Internal, "no configuration loaded");
        if (auto a = allow_record(*cfg_, uid); !a)
            return a;
        if (!record_limit_.take(uid, clock_()))
            return bus_fail(bus_error::RateLimited,
                            "uid {} is over its Record rate limit ({} records/s, burst {}); "
                            "try again later",
                            uid, record_limit_.rate(), record_limit_.burst());
        if (auto c = check_record_args(action, details); !c)
            return c;
        return append(uid, std::string(action), std::string(details));
    };
    auto r = run();
    journal("Record", uid, action, r);
    return r;
}

} // namespace alopex::broker
