// SPDX-License-Identifier: GPL-2.0-or-later
// The append-only writer: continues the chain from the file's last complete line, one
// fsync'ed write per record, cuts back what a failed write left, and refuses to go on
// after anything it cannot vouch for.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "alopex/file.hpp"
#include "alopex/ledger.hpp"
#include "ledger_internal.hpp"

namespace alopex::ledger {

namespace {

constexpr size_t max_line = 16u << 20;

// The file's bytes from the start of its last complete line (or from the start of the
// file) to its end: read backwards in chunks until two '\n' are in hand.
Result<std::string> read_tail(int fd, uint64_t size, const std::string &name)
{
    std::string tail; // bytes [pos, size)
    uint64_t pos = size;
    size_t newlines = 0;
    while (pos > 0 && newlines < 2) {
        if (tail.size() > 2 * max_line)
            return failf(EFBIG, "{}: last record longer than {} bytes", name, max_line);
        size_t chunk = static_cast<size_t>(std::min<uint64_t>(pos, 65536));
        std::string buf(chunk, '\0');
        ssize_t n = pread(fd, buf.data(), chunk, static_cast<off_t>(pos - chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failf(errno, "{}: cannot read: {}", name, strerror(errno));
        }
        if (static_cast<size_t>(n) != chunk)
            return failf(EIO, "{}: short read", name);
        pos -= chunk;
        newlines += static_cast<size_t>(std::count(buf.begin(), buf.end(), '\n'));
        tail.insert(0, buf);
    }
    if (newlines >= 2) {
        // Keep only what follows the second-to-last '\n'.
        size_t last = tail.rfind('\n');
        size_t prev = tail.rfind('\n', last - 1);
        tail.erase(0, prev + 1);
    }
    return tail;
}

Result<void> write_all_at(int fd, std::string_view data, off_t off)
{
    while (!data.empty()) {
        ssize_t n = pwrite(fd, data.data(), data.size(), off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failf(errno, "write: {}", strerror(errno));
        }
        data.remove_prefix(static_cast<size_t>(n));
        off += n;
    }
    return {};
}

Result<void> write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failf(errno, "write: {}", strerror(errno));
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

} // namespace

Result<Tail> parse_tail(std::string_view tail)
{
    Tail t;
    size_t nl = tail.rfind('\n');
    if (nl == std::string_view::npos) {
        t.torn = tail.size();
        return t;
    }
    t.torn = tail.size() - nl - 1;
    size_t prev = nl == 0 ? std::string_view::npos : tail.rfind('\n', nl - 1);
    size_t start = prev == std::string_view::npos ? 0 : prev + 1;
    auto r = parse_line(tail.substr(start, nl - start));
    if (!r)
        return failf(EINVAL, "the last record does not parse: {}", r.error().message);
    if (compute_hash(*r) != r->hash)
        return failf(EINVAL, "the last record (seq {}) has a wrong hash", r->seq);
    t.last = std::move(*r);
    return t;
}

Result<Writer> Writer::open(const std::filesystem::path &p, const OpenOptions &o)
{
    Writer w;
    w.path_ = p;
    const std::string name = p.string();
    int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY;
    bool created = true;
    Fd fd(::open(p.c_str(), flags | O_CREAT | O_EXCL, 0640));
    if (!fd && errno == EEXIST) {
        created = false;
        fd.reset(::open(p.c_str(), flags));
    }
    if (!fd)
        return failf(errno, "{}: cannot open ledger: {}", name, strerror(errno));
    if (created) {
        // The new directory entry must survive a crash as the records written to it do.
        std::filesystem::path dir = p.parent_path();
        Result<> synced = fchmod(fd.get(), 0640) < 0
                              ? failf(errno, "cannot chmod: {}", strerror(errno))
                              : fsync_directory(dir.empty() ? "." : dir);
        if (!synced) {
            ::unlink(p.c_str());
            return failf(synced.error().code, "{}: new ledger: {}", name,
                         synced.error().message);
        }
    }
    if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
        return failf(errno, "{}: ledger is locked by another writer: {}", name, strerror(errno));
    struct stat st{};
    if (fstat(fd.get(), &st) < 0)
        return failf(errno, "{}: cannot stat: {}", name, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return failf(EINVAL, "{}: not a regular file", name);
    auto size = static_cast<uint64_t>(st.st_size);
    ALOPEX_TRY(bytes, read_tail(fd.get(), size, name));
    auto tail = parse_tail(bytes);
    if (!tail)
        return failf(EINVAL, "{}: {}", name, tail.error().message);
    if (tail->last) {
        w.seq_ = tail->last->seq;
        w.prev_ = tail->last->hash;
    }
    w.fd_ = std::move(fd);
    w.size_ = size - tail->torn;
    if (tail->torn > 0) {
        if (o.repair_actor.empty())
            return failf(EINVAL, "{}: the last record is incomplete (no final newline)", name);
        ALOPEX_TRY_VOID(w.repair_tail(w.size_, tail->torn, o));
    }
    return w;
}

Result<Record> Writer::make_record(std::string actor, std::string action, std::string details)
{
    if (actor.empty() || actor.size() > 256 || !detail::valid_utf8(actor))
        return fail(EINVAL, "ledger actor must be 1..256 bytes of UTF-8");
    if (action.empty() || action.size() > 64 || !detail::valid_utf8(action))
        return fail(EINVAL, "ledger action must be 1..64 bytes of UTF-8");
    if (!detail::valid_utf8(details))
        return fail(EINVAL, "ledger details must be valid UTF-8");
    Record r;
    r.seq = seq_ + 1;
    r.time = now_rfc3339();
    r.actor = std::move(actor);
    r.action = std::move(action);
    r.details = std::move(details);
    r.prev = prev_;
    r.hash = compute_hash(r);
    return r;
}

Result<void> Writer::repair_tail(uint64_t good_size, uint64_t torn, const OpenOptions &o)
{
    const std::string name = path_.string();
    ALOPEX_TRY(r, make_record(o.repair_actor, o.repair_action,
                              fmt::format("bytes={} offset={}", torn, good_size)));
    std::string line = to_line(r);
    line.push_back('\n');
    // The record overwrites the torn bytes before anything is cut: a crash in between
    // leaves a torn line again (cut and recorded at the next open), never a silent cut.
    int flags = fcntl(fd_.get(), F_GETFL);
    if (flags < 0 || fcntl(fd_.get(), F_SETFL, flags & ~O_APPEND) < 0)
        return failf(errno, "{}: cannot clear O_APPEND: {}", name, strerror(errno));
    auto restore = [&] { (void)fcntl(fd_.get(), F_SETFL, flags); };
    if (auto w = write_all_at(fd_.get(), line, static_cast<off_t>(good_size)); !w) {
        restore();
        return failf(w.error().code, "{}: cutting a torn last line: {}", name,
                     w.error().message);
    }
    const uint64_t end = good_size + line.size();
    if (ftruncate(fd_.get(), static_cast<off_t>(end)) < 0 || fsync(fd_.get()) < 0) {
        int err = errno;
        restore();
        return failf(err, "{}: cutting a torn last line: {}", name, strerror(err));
    }
    restore();
    seq_ = r.seq;
    prev_ = r.hash;
    size_ = end;
    cut_ = torn;
    return {};
}

std::unexpected<Error> Writer::roll_back(const Error &cause)
{
    // Whatever part of the record reached the file is cut off again, so the file still
    // ends with the last good record and the next append (or open) can go on from there.
    if (ftruncate(fd_.get(), static_cast<off_t>(size_)) < 0 || fsync(fd_.get()) < 0) {
        int err = errno;
        broken_ = true;
        return failf(cause.code, "{}: {}; cutting back to {} bytes failed too: {}",
                     path_.string(), cause.message, size_, strerror(err));
    }
    return failf(cause.code, "{}: {} (the partial record was cut off)", path_.string(),
                 cause.message);
}

Result<Record> Writer::append(std::string actor, std::string action, std::string details)
{
    if (broken_ || !fd_)
        return failf(EIO, "{}: ledger writer stopped after an earlier failure", path_.string());
    ALOPEX_TRY(r, make_record(std::move(actor), std::move(action), std::move(details)));
    std::string line = to_line(r);
    line.push_back('\n');
    if (auto w = write_all(fd_.get(), line); !w)
        return roll_back(w.error());
    if (fsync(fd_.get()) < 0) {
        int err = errno;
        return roll_back(Error{err, fmt::format("fsync: {}", strerror(err)), {}});
    }
    seq_ = r.seq;
    prev_ = r.hash;
    size_ += line.size();
    return r;
}

} // namespace alopex::ledger
