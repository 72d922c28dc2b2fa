// SPDX-License-Identifier: GPL-2.0-or-later
// The suite's hash-chained audit ledger (JSONL, one record per line):
//   {"seq":N,"time":"...","actor":"...","action":"...","details":"...","prev":"<hex>","hash":"<hex>"}
// seq starts at 1, the first prev is 64 zeros, and
//   hash = hex(SHA-256(prev + canonical(record)))
// where canonical() is the compact JSON, keys sorted, of every field but hash.
// Only the broker writes it (Writer); alopexctl reads and verifies it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"
#include "alopex/fd.hpp"

namespace alopex::ledger {

struct Record {
    uint64_t seq = 0;
    std::string time, actor, action, details, prev, hash;
};

inline constexpr std::string_view zero_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string canonical(const Record &r);            // compact sorted JSON of all fields but hash
std::string compute_hash(const Record &r);         // hex(SHA-256(r.prev + canonical(r)))
Result<Record> parse_line(std::string_view line);  // strict: exactly the 7 fields, right types
std::string to_line(const Record &r);              // one JSON line, no trailing '\n'

// ok, or the first bad record: bad_line (1-based; 0 when ok), bad_seq (the seq the record
// carries, 0 when the line does not parse) and reason, one of
//   "parse error: ...", "seq gap: expected N, found M", "prev mismatch: ...",
//   "hash mismatch: ...". `records` counts the records that verified.
struct Verdict {
    bool ok = true;
    uint64_t records = 0;
    uint64_t bad_line = 0;
    uint64_t bad_seq = 0;
    std::string reason;
};
Verdict verify(std::string_view contents);
Result<Verdict> verify_file(const std::filesystem::path &p);
// Every record, parsed strictly (no chain check; use verify for that).
Result<std::vector<Record>> read_file(const std::filesystem::path &p);

// What Writer::open makes of the end of a ledger file. `tail` is the file's last bytes,
// starting at the start of the file or just after a '\n' and holding at least the last
// complete ('\n'-terminated) line, if the file has one. The bytes after the last '\n'
// are a torn write (a crash or a full disk in the middle of an append): `torn` counts
// them. `last` is the last complete record, which must parse and carry its own hash
// (else an error naming what is wrong: the chain is never extended past it).
struct Tail {
    uint64_t torn = 0;
    std::optional<Record> last;
};
Result<Tail> parse_tail(std::string_view tail);

// Appends records. The file is opened O_RDWR|O_APPEND|O_CLOEXEC (created 0640, and then
// its directory fsync'ed so the new entry survives a crash), locked with
// flock(LOCK_EX|LOCK_NB) against a second writer, and each record is fsync'ed.
// open() continues seq/prev from the last complete line (parse_tail); a last complete
// line that does not parse or whose hash does not match is an error. An unterminated last
// line (`torn` > 0) is an error too, unless OpenOptions names who records the repair: then
// a record {repair_actor, repair_action, "bytes=N offset=M"} saying how many bytes were
// cut is written over them and the file is cut just after it (pwrite, ftruncate, fsync),
// so the torn bytes are never gone without their record.
// A failed or short write or fsync in append() truncates the file back to its last good
// length; only when that fails too does the Writer refuse further appends (broken()).
struct OpenOptions {
    std::string repair_actor;  // empty: a torn last line is an error
    std::string repair_action;
};

class Writer {
public:
    static Result<Writer> open(const std::filesystem::path &p, const OpenOptions &o = {});
    // actor 1..256 bytes, action 1..64 bytes, all valid UTF-8; details valid UTF-8.
    Result<Record> append(std::string actor, std::string action, std::string details);

    const std::filesystem::path &path() const { return path_; }
    uint64_t last_seq() const { return seq_; }
    bool broken() const { return broken_; }
    // Bytes of a torn last line open() cut (0 when the file ended cleanly).
    uint64_t cut_bytes() const { return cut_; }

private:
    Writer() = default;
    Result<Record> make_record(std::string actor, std::string action, std::string details);
    Result<void> repair_tail(uint64_t good_size, uint64_t torn, const OpenOptions &o);
    std::unexpected<Error> roll_back(const Error &cause);
    std::filesystem::path path_;
    Fd fd_;
    uint64_t seq_ = 0;
    uint64_t size_ = 0; // length of the file up to the end of the last good record
    uint64_t cut_ = 0;
    std::string prev_{zero_hash};
    bool broken_ = false;
};

// Current UTC time as RFC 3339 with milliseconds, e.g. "2024-05-01T12:00:00.123Z".
std::string now_rfc3339();
// Lower-case hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

} // namespace alopex::ledger
