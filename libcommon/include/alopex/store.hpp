// SPDX-License-Identifier: GPL-2.0-or-later
// A durable state as a snapshot plus an append-only journal, for what a daemon cannot get
// back from the kernel or its peers after a restart (fwd's runtime rules and panic flag;
// linkd's checkpoints and leases; the next daemons' own).
//
// On disk:
//   SNAPSHOT  one document holding the whole state and the sequence number (seq) of the
//             last change it includes; replaced with write_file_atomic() (temporary file,
//             fsync, rename, directory fsync), so it is the old document or the new one.
//   JOURNAL   one line per change since the snapshot, each numbered (seq, ascending) and
//             appended with an fdatasync before record() returns: a change costs O(1)
//             bytes written however large the state is.
// The state is the snapshot with the journal's lines above its seq applied in order.
// compact() writes a new snapshot, then removes the journal; a crash between the two
// leaves lines at or below the new snapshot's seq, which the next load skips, so nothing
// is lost and nothing applies twice. A last journal line without its '\n' is a torn write
// (a crash mid-append, never acknowledged): ignored, and cut off before the next append.
// record() folds the journal into a new snapshot instead of appending once the journal
// would outgrow the snapshot (and Options::min_compact): O(1) amortised per change.
//
// Damage (a line that does not parse, seqs out of order, a change the codec refuses, an
// unreadable snapshot) never throws the whole state away: load() returns the snapshot
// plus the journal's good prefix (every line before the first bad one), says where the
// damage is ("FILE:LINE: what" / "FILE: what"), and hands over the lines after it that
// still parse, unapplied, so the caller can decide what to honour (fwd keeps a panic
// state those lines turn on). set_aside() then keeps the damaged files for inspection
// (SNAPSHOT.invalid, JOURNAL.invalid) and makes the recovered state the one on disk.
//
// The record format is the caller's: a Codec (below) parses and formats the snapshot and
// the journal lines and applies a change. State and Change each carry `uint64_t seq`,
// which the Store maintains. Files (store.cpp) is the I/O half, independent of the codec.
#pragma once

#include <sys/types.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex::store {

// Sequence numbers (and whatever else a codec numbers: ids, times) read back from a file
// are at most this: exact in every JSON reader (2^53 - 1), and far from wrapping.
inline constexpr uint64_t max_seq = (uint64_t{1} << 53) - 1;

struct Options {
    std::filesystem::path snapshot;   // e.g. $STATE_DIRECTORY/runtime.json; empty: nothing
                                      // is persisted (load() gives an empty state)
    std::filesystem::path journal;    // empty: the snapshot's path with extension .journal
    size_t max_snapshot = size_t{64} << 20;   // bytes; a larger file is damage
    size_t max_journal = size_t{64} << 20;
    size_t min_compact = size_t{64} << 10;    // the journal may grow to this at least
    mode_t mode = 0640;                       // of new files
};

// SNAPSHOT -> SNAPSHOT with its extension replaced by ".journal".
std::filesystem::path default_journal(const std::filesystem::path &snapshot);

// What set_aside() did with the damaged files.
struct SetAside {
    std::vector<std::filesystem::path> kept;   // the damaged files, now at these paths
    std::string problems;                      // what could not be kept ("" = nothing)
};

// The files, without knowing their format. Not copyable (owns the journal's fd).
class Files {
public:
    explicit Files(Options o = {});
    Files(Files &&) noexcept = default;
    Files &operator=(Files &&) noexcept = default;

    bool enabled() const noexcept { return !opt_.snapshot.empty(); }
    const Options &options() const noexcept { return opt_; }
    const std::filesystem::path &snapshot() const noexcept { return opt_.snapshot; }
    const std::filesystem::path &journal() const noexcept { return opt_.journal; }
    uint64_t journal_bytes() const noexcept { return journal_bytes_; }

    // The snapshot's bytes; nullopt when there is no file. Errors "FILE: what".
    Result<std::optional<std::string>> read_snapshot();
    // The journal's bytes ("" when there is no file). Closes the journal's fd: the next
    // append reopens it and cuts it to what set_journal_valid() said.
    Result<std::string> read_journal();
    void set_journal_valid(uint64_t bytes) noexcept { journal_bytes_ = bytes; }
    // Appends one line ("...\n"), then fdatasync; on failure nothing of it stays.
    Result<> append(std::string_view line);
    // `text` becomes the snapshot (write_file_atomic), then the journal is removed.
    Result<> write_snapshot(std::string_view text);
    // Whether appending `line_bytes` would make the journal outgrow the snapshot.
    bool outgrows(size_t line_bytes) const noexcept;
    // After a damaged load: the snapshot is kept as SNAPSHOT.invalid (a hard link, or a
    // copy), `text` becomes the snapshot, the journal moves to JOURNAL.invalid (an older
    // .invalid is replaced). Fails only when `text` could not be written.
    Result<SetAside> set_aside(std::string_view text);

private:
    Options opt_;
    Fd fd_;                        // the journal, O_APPEND, opened on the first append
    uint64_t journal_bytes_ = 0;   // valid bytes in the journal
    uint64_t snapshot_bytes_ = 0;
};

// The record format. parse_* are strict and name the place given ("FILE: what",
// "FILE:LINE: what"); format_change returns exactly one line ending in '\n'; apply
// refuses (leaving the state as it was) a change the state must not take, such as one
// past a size limit. Numbers read back are bounded (seq <= max_seq).
template <class C>
concept Codec = requires(typename C::State &s, const typename C::State &cs,
                         const typename C::Change &cc, std::string_view text) {
    { C::parse_snapshot(text, text) } -> std::same_as<Result<typename C::State>>;
    { C::format_snapshot(cs) } -> std::same_as<std::string>;
    { C::parse_change(text, text) } -> std::same_as<Result<typename C::Change>>;
    { C::format_change(cc) } -> std::same_as<std::string>;
    { C::apply(s, cc) } -> std::same_as<Result<>>;
    requires std::same_as<decltype(cs.seq), uint64_t>;
    requires std::same_as<decltype(cc.seq), uint64_t>;
};

// What a replay of journal text found.
template <class Change> struct Replayed {
    size_t lines = 0;               // complete lines read and good (before any damage)
    size_t applied = 0;             // of those, the ones above the snapshot's seq
    uint64_t valid_bytes = 0;       // where the good lines end
    bool torn = false;              // a last line without '\n' was ignored
    std::optional<Error> damage;    // the first bad line: "FILE:LINE: what"
    size_t bad_line = 0;            // its number (from 1); 0 = none
    std::vector<Change> after_damage;   // complete lines past it that parse (file order);
                                        // not applied
};

// Applies the complete lines of `journal` to `s` in order, skipping those at or below
// s.seq (the snapshot has them); seqs must ascend. Stops at the first bad line: `s` is
// then the snapshot plus the lines before it.
template <Codec C>
Replayed<typename C::Change> replay(typename C::State &s, std::string_view journal,
                                    std::string_view file)
{
    Replayed<typename C::Change> out;
    uint64_t last = 0;
    size_t pos = 0, number = 0;
    while (pos < journal.size()) {
        const size_t nl = journal.find('\n', pos);
        if (nl == std::string_view::npos) {
            out.torn = true;   // the crash came before the newline (and the fdatasync)
            break;
        }
        ++number;
        const std::string_view line = journal.substr(pos, nl - pos);
        const std::string where = fmt::format("{}:{}", file, number);
        pos = nl + 1;
        if (out.damage) {
            if (auto c = C::parse_change(line, where))
                out.after_damage.push_back(std::move(*c));
            continue;
        }
        auto c = C::parse_change(line, where);
        Result<> ok;
        if (!c)
            ok = std::unexpected(c.error());
        else if (c->seq == 0 || c->seq > max_seq)
            ok = failf(EINVAL, "{}: seq {} is not in 1..{}", where, c->seq, max_seq);
        else if (c->seq <= last)
            ok = failf(EINVAL, "{}: seq {} is not above the previous seq {}", where, c->seq, last);
        else if (c->seq > s.seq) {   // else the snapshot has it (written before the
            ok = C::apply(s, *c);    // journal was removed)
            if (!ok) {
                Error e = std::move(ok.error());
                ok = failf(e.code, "{}: {}", where, e.message);
            } else {
                s.seq = c->seq;
                ++out.applied;
            }
        }
        if (!ok) {
            out.damage = std::move(ok.error());
            out.bad_line = number;
            continue;
        }
        last = c->seq;
        ++out.lines;
        out.valid_bytes = pos;
    }
    return out;
}

template <class State, class Change> struct Loaded {
    State state;                           // what could be read (see above)
    std::optional<Error> snapshot_damage;  // the snapshot was unreadable: `state` is the
                                           // journal replayed onto an empty State
    Replayed<Change> journal;
    bool damaged() const noexcept { return snapshot_damage || journal.damage; }
};

template <Codec C> class Store {
public:
    using State = typename C::State;
    using Change = typename C::Change;

    explicit Store(Options o = {}) : files_(std::move(o)) {}

    // The snapshot with the journal replayed; a missing file is empty. Never fails:
    // damage is described in the result, and the state is what could be read.
    Loaded<State, Change> load()
    {
        Loaded<State, Change> out;
        if (!files_.enabled())
            return out;
        if (auto text = files_.read_snapshot(); !text) {
            out.snapshot_damage = std::move(text.error());
        } else if (*text) {
            auto s = C::parse_snapshot(**text, files_.snapshot().string());
            if (!s)
                out.snapshot_damage = std::move(s.error());
            else if (s->seq > max_seq)
                out.snapshot_damage = Error{EINVAL, fmt::format("{}: seq {} is above {}",
                                                                files_.snapshot().string(),
                                                                s->seq, max_seq), {}};
            else
                out.state = std::move(*s);
        }
        auto journal = files_.read_journal();
        if (!journal) {
            out.journal.damage = std::move(journal.error());
            files_.set_journal_valid(0);
            return out;
        }
        out.journal = replay<C>(out.state, *journal, files_.journal().string());
        files_.set_journal_valid(out.journal.valid_bytes);
        return out;
    }

    // `s` becomes the snapshot and the journal is emptied.
    Result<> compact(const State &s)
    {
        if (!files_.enabled())
            return {};
        return files_.write_snapshot(C::format_snapshot(s));
    }

    // Records one change, numbered after.seq + 1; `after` is the state with the change
    // applied and takes that seq. Appended as a journal line, or written as a new
    // snapshot when the journal would outgrow it. On failure after.seq is as it was.
    Result<> record(Change c, State &after)
    {
        if (!files_.enabled())
            return {};
        if (after.seq >= max_seq)
            return failf(EOVERFLOW, "{}: sequence numbers exhausted", files_.journal().string());
        const uint64_t before = after.seq;
        c.seq = after.seq = before + 1;
        const std::string line = C::format_change(c);
        Result<> r;
        if (line.empty() || line.find('\n') != line.size() - 1)
            r = failf(EINVAL, "{}: a change must format as one line", files_.journal().string());
        else if (files_.outgrows(line.size()))
            r = compact(after);
        else
            r = files_.append(line);
        if (!r)
            after.seq = before;
        return r;
    }

    // After a damaged load: keeps the damaged files for inspection and makes `recovered`
    // the state on disk (see Files::set_aside).
    Result<SetAside> set_aside(const State &recovered)
    {
        if (!files_.enabled())
            return SetAside{};
        return files_.set_aside(C::format_snapshot(recovered));
    }

    uint64_t journal_bytes() const noexcept { return files_.journal_bytes(); }
    const std::filesystem::path &file() const noexcept { return files_.snapshot(); }
    const std::filesystem::path &journal() const noexcept { return files_.journal(); }

private:
    Files files_;
};

} // namespace alopex::store
