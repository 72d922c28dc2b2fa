// SPDX-License-Identifier: GPL-2.0-or-later
// The append-only writer: continues the chain from the file's last line, one fsync'ed
// write per record, and refuses to go on after anything it cannot vouch for.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "alopex/ledger.hpp"
#include "ledger_internal.hpp"

namespace alopex::ledger {

namespace {

constexpr size_t max_line = 16u << 20;

Result<std::string> read_last_line(int fd, const std::string &name)
{
    struct stat st{};
    if (fstat(fd, &st) < 0)
        return failf(errno, "{}: cannot stat: {}", name, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return failf(EINVAL, "{}: not a regular file", name);
    auto size = static_cast<uint64_t>(st.st_size);
    if (size == 0)
        return std::string();
    std::string tail; // bytes [pos, size)
    uint64_t pos = size;
    for (;;) {
        size_t nl = tail.size() > 1 ? tail.rfind('\n', tail.size() - 2) : std::string::npos;
        if (nl != std::string::npos) {
            tail.erase(0, nl + 1);
            break;
        }
        if (pos == 0)
            break;
        if (tail.size() > max_line)
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
        tail.insert(0, buf);
    }
    if (tail.empty() || tail.back() != '\n')
        return failf(EINVAL, "{}: the last record is incomplete (no final newline)", name);
    tail.pop_back();
    return tail;
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

Result<Writer> Writer::open(const std::filesystem::path &p)
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
    if (created && fchmod(fd.get(), 0640) < 0)
        return failf(errno, "{}: cannot chmod: {}", name, strerror(errno));
    if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
        return failf(errno, "{}: ledger is locked by another writer: {}", name, strerror(errno));
    auto last = read_last_line(fd.get(), name);
    if (!last)
        return std::unexpected<Error>(std::move(last.error()));
    if (!last->empty()) {
        auto r = parse_line(*last);
        if (!r)
            return failf(EINVAL, "{}: the last record does not parse: {}", name,
                         r.error().message);
        if (compute_hash(*r) != r->hash)
            return failf(EINVAL, "{}: the last record (seq {}) has a wrong hash", name, r->seq);
        w.seq_ = r->seq;
        w.prev_ = r->hash;
    }
    w.fd_ = std::move(fd);
    return w;
}

Result<Record> Writer::append(std::string actor, std::string action, std::string details)
{
    if (broken_ || !fd_)
        return failf(EIO, "{}: ledger writer stopped after an earlier failure", path_.string());
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
    std::string line = to_line(r);
    line.push_back('\n');
    if (auto w = write_all(fd_.get(), line); !w) {
        broken_ = true;
        return failf(w.error().code, "{}: {}", path_.string(), w.error().message);
    }
    if (fsync(fd_.get()) < 0) {
        broken_ = true;
        return failf(errno, "{}: fsync: {}", path_.string(), strerror(errno));
    }
    seq_ = r.seq;
    prev_ = r.hash;
    return r;
}

} // namespace alopex::ledger
