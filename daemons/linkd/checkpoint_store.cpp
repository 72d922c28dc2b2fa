// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints on disk: the file of each pending checkpoint in the state directory, read
// back at start and resumed after the first dump (see checkpoint.hpp, Persistence).
#include <fcntl.h>
#include <systemd/sd-id128.h>

#include <fmt/format.h>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"
#include "alopex/log.hpp"
#include "checkpoint.hpp"
#include "checkpoint_file.hpp"
#include "manager.hpp"

namespace alopex::linkd {

namespace {

std::string this_boot()
{
    sd_id128_t id{};
    if (sd_id128_get_boot(&id) < 0)
        return {};
    char text[SD_ID128_STRING_MAX];
    return sd_id128_to_string(id, text);
}

std::string object_path(uint64_t id)
{
    return fmt::format("/org/alopex/Link1/checkpoint/{}", id);
}

} // namespace

Result<> Checkpoints::persist(const Checkpoint &c) const
{
    if (dir_.empty())
        return {};
    if (boot_id_.empty())
        return fail(EIO, "the boot id is unknown (/proc/sys/kernel/random/boot_id)");
    CheckpointRecord rec{c.id, boot_id_, c.deadline_usec, c.state, c.netdevs};
    return write_file_atomic(dir_ / checkpoint_file_name(c.id), format_checkpoint(rec), {.mode = 0600});
}

void Checkpoints::forget(const Checkpoint &c) const
{
    if (dir_.empty())
        return;
    auto p = dir_ / checkpoint_file_name(c.id);
    std::error_code ec;
    if (!std::filesystem::remove(p, ec) && ec)
        log::err("{}: cannot remove: {}; a restart would roll the checkpoint back again", p.string(), ec.message());
    else if (auto r = fsync_directory(dir_); !r)
        log::warning("{}", r.error().to_string());
}

void Checkpoints::load()
{
    boot_id_ = this_boot();
    if (dir_.empty())
        return;
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    std::vector<std::pair<uint64_t, std::filesystem::path>> files;
    for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
        if (auto id = checkpoint_file_id(it->path().filename().string()))
            files.emplace_back(*id, it->path());
    if (ec)
        log::err("{}: cannot list pending checkpoints: {}", dir_.string(), ec.message());
    std::sort(files.begin(), files.end());
    // Read through the directory, never following a symlink planted at a file's name.
    Fd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd && !files.empty()) {
        log::err("{}: cannot open: {}; pending checkpoints not read", dir_.string(), strerror(errno));
        return;
    }
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_BOOTTIME, &now);
    // A file that cannot be a checkpoint of linkd's is set aside (*.invalid) for a human,
    // never read again; one of an earlier boot is removed (the reboot reset the kernel).
    auto set_aside = [](const std::filesystem::path &p, const std::string &why) {
        log::err("{}: not a pending checkpoint ({}); set aside as {}.invalid", p.string(), why, p.filename().string());
        std::error_code e;
        std::filesystem::rename(p, std::filesystem::path(p) += ".invalid", e);
    };
    for (const auto &[id, p] : files) {
        if (active_.size() >= max_checkpoints) {
            set_aside(p, fmt::format("more than {} pending", max_checkpoints));
            continue;
        }
        auto text = read_regular_file_at(dirfd.get(), p.filename().string(), max_checkpoint_file);
        auto rec = text ? parse_checkpoint(*text) : Result<CheckpointRecord>(std::unexpected(text.error()));
        if (!rec) {
            set_aside(p, rec.error().message);
            continue;
        }
        if (rec->id != id) {
            set_aside(p, fmt::format("it says id {}", rec->id));
            continue;
        }
        if (rec->boot_id != boot_id_) {
            log::notice("{}: a checkpoint of an earlier boot, dropped", p.string());
            std::filesystem::remove(p, ec);
            continue;
        }
        if (rec->deadline_usec > now + uint64_t{max_checkpoint_timeout_s} * 1000000) {
            set_aside(p, "its deadline is further away than a checkpoint can be");
            continue;
        }
        auto c = std::make_unique<Checkpoint>();
        c->id = rec->id;
        c->deadline_usec = rec->deadline_usec;
        c->state = std::move(rec->state);
        c->netdevs = std::move(rec->netdevs);
        next_id_ = std::max(next_id_, c->id + 1);
        log::info("{}: pending from before the restart, deadline in {} s", object_path(c->id),
                  c->deadline_usec > now ? (c->deadline_usec - now) / 1000000 : 0);
        active_.emplace(object_path(c->id), std::move(c));
    }
}

void Checkpoints::resume()
{
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_BOOTTIME, &now);
    std::vector<std::pair<std::string, const char *>> due;
    for (auto &[path, c] : active_) {
        if (c->timer)
            continue;   // created in this run
        if (c->deadline_usec <= now) {
            due.emplace_back(path, "overdue when linkd started");
        } else if (auto r = arm(path, *c); !r) {
            log::err("{}: {}; rolling it back now", path, r.error().to_string());
            due.emplace_back(path, "its timer could not be armed");
        }
    }
    for (const auto &[path, why] : due)
        roll_back(path, why);
}

} // namespace alopex::linkd
