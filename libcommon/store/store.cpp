// SPDX-License-Identifier: GPL-2.0-or-later
// The I/O half of alopex/store.hpp: reading the snapshot and the journal, appending a
// line, compaction through write_file_atomic(), setting damaged files aside.
#include "alopex/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "alopex/file.hpp"

namespace alopex::store {

namespace {

std::filesystem::path directory_of(const std::filesystem::path &p)
{
    return p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
}

bool present(const std::filesystem::path &p)
{
    struct stat st{};
    return ::lstat(p.c_str(), &st) == 0;
}

std::filesystem::path invalid_path(const std::filesystem::path &p)
{
    auto out = p;
    out += ".invalid";
    return out;
}

} // namespace

std::filesystem::path default_journal(const std::filesystem::path &snapshot)
{
    auto j = snapshot;
    j.replace_extension(".journal");
    return j;
}

Files::Files(Options o) : opt_(std::move(o))
{
    if (!opt_.snapshot.empty() && opt_.journal.empty())
        opt_.journal = default_journal(opt_.snapshot);
}

Result<std::optional<std::string>> Files::read_snapshot()
{
    snapshot_bytes_ = 0;
    if (!present(opt_.snapshot) && errno == ENOENT)
        return std::optional<std::string>{};
    auto text = read_regular_file(opt_.snapshot, opt_.max_snapshot);
    if (!text)
        return std::unexpected(text.error());
    snapshot_bytes_ = text->size();
    return std::optional<std::string>(std::move(*text));
}

Result<std::string> Files::read_journal()
{
    fd_.reset();
    journal_bytes_ = 0;
    if (!present(opt_.journal) && errno == ENOENT)
        return std::string();
    return read_regular_file(opt_.journal, opt_.max_journal);
}

bool Files::outgrows(size_t line_bytes) const noexcept
{
    return journal_bytes_ + line_bytes > std::max<uint64_t>(snapshot_bytes_, opt_.min_compact);
}

Result<> Files::append(std::string_view line)
{
    const std::string name = opt_.journal.string();
    if (!fd_) {
        Fd fd(::open(opt_.journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                     opt_.mode));
        if (!fd)
            return io_fail(errno, name);
        struct stat st{};
        if (::fstat(fd.get(), &st) < 0)
            return io_fail(errno, name);
        if (!S_ISREG(st.st_mode))
            return io_fail(EINVAL, name);
        // Cut off a torn last line (a crash mid-append) so this line starts a line.
        if (uint64_t(st.st_size) > journal_bytes_ && ::ftruncate(fd.get(), off_t(journal_bytes_)) < 0)
            return io_fail(errno, name);
        journal_bytes_ = std::min<uint64_t>(journal_bytes_, uint64_t(st.st_size));
        // The file may be new: its directory entry must be durable too.
        ALOPEX_TRY_VOID(fsync_directory(directory_of(opt_.journal)));
        fd_ = std::move(fd);
    }
    const uint64_t start = journal_bytes_;
    auto undo = [&](int err) {
        (void)::ftruncate(fd_.get(), off_t(start));   // no half or unsynced line stays
        return io_fail(err, name);
    };
    for (std::string_view rest = line; !rest.empty();) {
        ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return undo(n < 0 ? errno : EIO);
        rest.remove_prefix(size_t(n));
    }
    if (::fdatasync(fd_.get()) < 0)
        return undo(errno);
    journal_bytes_ = start + line.size();
    return {};
}

Result<> Files::write_snapshot(std::string_view text)
{
    AtomicWrite how;
    how.mode = opt_.mode;
    ALOPEX_TRY_VOID(write_file_atomic(opt_.snapshot, text, how));
    snapshot_bytes_ = text.size();
    fd_.reset();
    journal_bytes_ = 0;
    // Durable once the directory is; should that not happen before a crash, the old
    // journal's lines are at or below the new snapshot's seq and a load skips them.
    if (::unlink(opt_.journal.c_str()) < 0 && errno != ENOENT)
        return io_fail(errno, "cannot remove " + opt_.journal.string());
    return {};
}

Result<SetAside> Files::set_aside(std::string_view text)
{
    SetAside out;
    auto problem = [&](const std::string &what) {
        out.problems += (out.problems.empty() ? "" : "; ") + what;
    };
    // The snapshot first, by a second name: it stays in place until the new one
    // replaces it, so a crash in between finds the same files again.
    if (present(opt_.snapshot)) {
        const auto aside = invalid_path(opt_.snapshot);
        if (::unlink(aside.c_str()) < 0 && errno != ENOENT)
            problem(fmt::format("cannot remove {}: {}", aside.string(), strerror(errno)));
        if (::link(opt_.snapshot.c_str(), aside.c_str()) == 0) {
            out.kept.push_back(aside);
        } else {
            // No hard link (protected_hardlinks, a filesystem without them): a copy.
            const int err = errno;
            auto bytes = read_regular_file(opt_.snapshot, opt_.max_snapshot);
            AtomicWrite how;
            how.mode = opt_.mode;
            if (bytes && write_file_atomic(aside, *bytes, how))
                out.kept.push_back(aside);
            else
                problem(fmt::format("cannot keep {} as {}: {}", opt_.snapshot.string(),
                                    aside.string(), strerror(err)));
        }
    }
    // Then the recovered state, and only then the journal goes: until the new snapshot is
    // in place the old files still describe the state.
    fd_.reset();
    AtomicWrite how;
    how.mode = opt_.mode;
    ALOPEX_TRY_VOID(write_file_atomic(opt_.snapshot, text, how));
    snapshot_bytes_ = text.size();
    journal_bytes_ = 0;
    if (present(opt_.journal)) {
        const auto aside = invalid_path(opt_.journal);
        if (::rename(opt_.journal.c_str(), aside.c_str()) == 0) {
            out.kept.push_back(aside);
        } else {
            problem(fmt::format("cannot move {} to {}: {}", opt_.journal.string(), aside.string(),
                                strerror(errno)));
            if (::unlink(opt_.journal.c_str()) < 0 && errno != ENOENT)
                problem(fmt::format("cannot remove {}: {}", opt_.journal.string(), strerror(errno)));
        }
    }
    if (auto r = fsync_directory(directory_of(opt_.snapshot)); !r)
        problem(r.error().to_string());
    return out;
}

} // namespace alopex::store
