// SPDX-License-Identifier: GPL-2.0-or-later
// runtime.json and runtime.journal: strict parse, canonical format, atomic save, the
// journal (append, replay, compaction), expiry helpers.
#include "runtime.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "alopex/fd.hpp"
#include "alopex/file.hpp"

namespace alopex::fwd::runtime {

namespace {

using nlohmann::json;

bool valid_zone_name(std::string_view z)
{
    if (z.empty() || z.size() > 20)
        return false;
    return std::all_of(z.begin(), z.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

bool valid_ifname(std::string_view n)
{
    if (n.empty() || n.size() > 15 || n == "." || n == "..")
        return false;
    return std::all_of(n.begin(), n.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c > ' ' && c < 0x7f && c != '/' && c != ':';
    });
}

bool has_control(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f;
    });
}

struct Bad {
    std::string_view file;
    template <typename... A> std::unexpected<Error> operator()(fmt::format_string<A...> f, A &&...a) const
    {
        return std::unexpected<Error>(Error{EINVAL, fmt::format("{}: {}", file,
                                                                fmt::format(f, std::forward<A>(a)...)), {}});
    }
};

Result<> only_keys(const json &obj, std::initializer_list<std::string_view> keys, std::string_view where,
                   const Bad &bad)
{
    for (const auto &[k, _] : obj.items())
        if (std::find(keys.begin(), keys.end(), k) == keys.end())
            return bad("{}: unknown key '{}'", where, k);
    return {};
}

Result<StoredRule> parse_rule(const json &j, std::string_view where, const Bad &bad)
{
    if (!j.is_object())
        return bad("{}: not an object", where);
    ALOPEX_TRY_VOID(only_keys(j, {"id", "zone", "spec", "expires_at_us", "comment"}, where, bad));
    StoredRule r;
    auto id = j.find("id");
    if (id == j.end() || !id->is_number_unsigned() || id->get<uint64_t>() == 0)
        return bad("{}: 'id' must be an integer > 0", where);
    r.id = id->get<uint64_t>();
    auto zone = j.find("zone");
    if (zone == j.end() || !zone->is_string() || !valid_zone_name(zone->get_ref<const std::string &>()))
        return bad("{}: 'zone' must be a zone name", where);
    r.zone = zone->get<std::string>();
    auto spec = j.find("spec");
    if (spec == j.end() || !spec->is_string() || spec->get_ref<const std::string &>().empty() ||
        spec->get_ref<const std::string &>().size() > max_spec ||
        has_control(spec->get_ref<const std::string &>()))
        return bad("{}: 'spec' must be a non-empty string of at most {} bytes", where, max_spec);
    r.spec = spec->get<std::string>();
    if (auto e = j.find("expires_at_us"); e != j.end()) {
        if (!e->is_number_unsigned())
            return bad("{}: 'expires_at_us' must be an integer >= 0", where);
        r.expires_at_us = e->get<uint64_t>();
    }
    if (auto c = j.find("comment"); c != j.end()) {
        if (!c->is_string())
            return bad("{}: 'comment' must be a string", where);
        r.comment = c->get<std::string>();
        if (auto ok = check_comment(r.comment); !ok)
            return bad("{}: {}", where, ok.error().message);
    }
    return r;
}

} // namespace

Result<> check_comment(std::string_view c)
{
    if (c.size() > max_comment)
        return bus_fail(bus_error::InvalidArgument, "comment: {} bytes, at most {}", c.size(),
                        max_comment);
    if (has_control(c))
        return bus_fail(bus_error::InvalidArgument, "comment: contains control characters");
    return {};
}

Result<State> parse(std::string_view text, std::string_view file)
{
    Bad bad{file};
    if (text.size() > max_file_size)
        return bad("larger than {} bytes", max_file_size);
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded())
        return bad("not valid JSON");
    if (!j.is_object())
        return bad("not a JSON object");
    ALOPEX_TRY_VOID(only_keys(j, {"version", "next_id", "panic", "interfaces", "rules", "seq"}, "top level",
                              bad));
    auto version = j.find("version");
    if (version == j.end() || !version->is_number_unsigned() || version->get<uint64_t>() != 1)
        return bad("'version' must be 1");
    State s;
    auto next = j.find("next_id");
    if (next == j.end() || !next->is_number_unsigned() || next->get<uint64_t>() == 0)
        return bad("'next_id' must be an integer > 0");
    s.next_id = next->get<uint64_t>();
    if (auto q = j.find("seq"); q != j.end()) {
        if (!q->is_number_unsigned())
            return bad("'seq' must be an integer >= 0");
        s.seq = q->get<uint64_t>();
    }
    if (auto p = j.find("panic"); p != j.end()) {
        if (!p->is_boolean())
            return bad("'panic' must be true or false");
        s.panic = p->get<bool>();
    }
    if (auto ifs = j.find("interfaces"); ifs != j.end()) {
        if (!ifs->is_object())
            return bad("'interfaces' must be an object of interface -> zone");
        if (ifs->size() > max_interfaces)
            return bad("'interfaces': more than {} entries", max_interfaces);
        for (const auto &[name, zone] : ifs->items()) {
            if (!valid_ifname(name))
                return bad("'interfaces': '{}' is not an interface name", name);
            if (!zone.is_string() || !valid_zone_name(zone.get_ref<const std::string &>()))
                return bad("'interfaces': the zone of '{}' must be a zone name", name);
            s.interfaces.emplace(name, zone.get<std::string>());
        }
    }
    if (auto rules = j.find("rules"); rules != j.end()) {
        if (!rules->is_array())
            return bad("'rules' must be an array");
        if (rules->size() > max_rules)
            return bad("'rules': more than {} rules", max_rules);
        uint64_t last = 0;
        for (size_t i = 0; i < rules->size(); ++i) {
            ALOPEX_TRY(r, parse_rule((*rules)[i], fmt::format("rules[{}]", i), bad));
            if (r.id <= last)
                return bad("rules[{}]: id {} is not above the previous id {}", i, r.id, last);
            if (r.id >= s.next_id)
                return bad("rules[{}]: id {} is not below next_id {}", i, r.id, s.next_id);
            last = r.id;
            s.rules.emplace(r.id, std::move(r));
        }
    }
    return s;
}

namespace {

// Replace invalid UTF-8 rather than throw (comments and specs were checked, but a state
// written by hand might not have been).
std::string dump(const json &j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json rule_json(const StoredRule &r)
{
    return json{{"id", r.id}, {"zone", r.zone}, {"spec", r.spec},
                {"expires_at_us", r.expires_at_us}, {"comment", r.comment}};
}

} // namespace

std::string format(const State &s)
{
    // Keys sorted, one rule per line (readable, and cheap to write for 100,000 rules).
    json ifs = json::object();
    for (const auto &[n, z] : s.interfaces)
        ifs[n] = z;
    std::string out = fmt::format("{{\"interfaces\":{},\"next_id\":{},\"panic\":{},\"rules\":[",
                                  dump(ifs), s.next_id, s.panic);
    bool first = true;
    for (const auto &[_, r] : s.rules) {
        out += first ? "\n" : ",\n";
        first = false;
        out += dump(rule_json(r));
    }
    out += fmt::format("{}],\"seq\":{},\"version\":1}}\n", first ? "" : "\n", s.seq);
    return out;
}

std::string format_change(const Change &c)
{
    json j;
    switch (c.kind) {
    case Change::Kind::add:
        j = rule_json(c.rule);
        j["op"] = "add";
        break;
    case Change::Kind::remove:
        j = json{{"op", "remove"}, {"ids", c.ids}};
        break;
    case Change::Kind::interface:
        j = json{{"op", "interface"}, {"name", c.ifname}, {"zone", c.zone}};
        break;
    case Change::Kind::panic:
        j = json{{"op", "panic"}, {"on", c.panic}};
        break;
    }
    j["seq"] = c.seq;
    return dump(j) + "\n";
}

Result<Change> parse_change(std::string_view line, std::string_view where)
{
    Bad bad{where};
    if (line.size() > max_spec * 4)
        return bad("a line longer than {} bytes", max_spec * 4);
    json j = json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return bad("not a JSON object");
    Change c;
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned() || seq->get<uint64_t>() == 0)
        return bad("'seq' must be an integer > 0");
    c.seq = seq->get<uint64_t>();
    j.erase("seq");
    auto op = j.find("op");
    if (op == j.end() || !op->is_string())
        return bad("'op' must be a string");
    const std::string name = op->get<std::string>();
    if (name == "add") {
        c.kind = Change::Kind::add;
        j.erase("op");
        ALOPEX_TRY(r, parse_rule(j, "add", bad));
        c.rule = std::move(r);
        return c;
    }
    if (name == "remove") {
        c.kind = Change::Kind::remove;
        ALOPEX_TRY_VOID(only_keys(j, {"op", "ids"}, "remove", bad));
        auto ids = j.find("ids");
        if (ids == j.end() || !ids->is_array() || ids->size() > max_rules)
            return bad("remove: 'ids' must be an array of at most {} ids", max_rules);
        for (const auto &id : *ids) {
            if (!id.is_number_unsigned() || id.get<uint64_t>() == 0)
                return bad("remove: 'ids' must hold integers > 0");
            c.ids.push_back(id.get<uint64_t>());
        }
        return c;
    }
    if (name == "interface") {
        c.kind = Change::Kind::interface;
        ALOPEX_TRY_VOID(only_keys(j, {"op", "name", "zone"}, "interface", bad));
        auto n = j.find("name");
        if (n == j.end() || !n->is_string() || !valid_ifname(n->get_ref<const std::string &>()))
            return bad("interface: 'name' must be an interface name");
        auto z = j.find("zone");
        if (z == j.end() || !z->is_string() ||
            (!z->get_ref<const std::string &>().empty() &&
             !valid_zone_name(z->get_ref<const std::string &>())))
            return bad("interface: 'zone' must be a zone name or \"\"");
        c.ifname = n->get<std::string>();
        c.zone = z->get<std::string>();
        return c;
    }
    if (name == "panic") {
        c.kind = Change::Kind::panic;
        ALOPEX_TRY_VOID(only_keys(j, {"op", "on"}, "panic", bad));
        auto on = j.find("on");
        if (on == j.end() || !on->is_boolean())
            return bad("panic: 'on' must be true or false");
        c.panic = on->get<bool>();
        return c;
    }
    return bad("unknown op '{}'", name);
}

void apply(State &s, const Change &c)
{
    s.seq = std::max(s.seq, c.seq);
    switch (c.kind) {
    case Change::Kind::add:
        s.rules.insert_or_assign(c.rule.id, c.rule);
        if (c.rule.id >= s.next_id)
            s.next_id = c.rule.id + 1;
        break;
    case Change::Kind::remove:
        for (uint64_t id : c.ids)
            s.rules.erase(id);
        break;
    case Change::Kind::interface:
        if (c.zone.empty())
            s.interfaces.erase(c.ifname);
        else
            s.interfaces.insert_or_assign(c.ifname, c.zone);
        break;
    case Change::Kind::panic:
        s.panic = c.panic;
        break;
    }
}

Result<> replay(State &s, std::string_view text, std::string_view file, size_t *valid_bytes)
{
    size_t pos = 0, line = 0;
    uint64_t last = 0;
    if (valid_bytes)
        *valid_bytes = 0;
    if (text.size() > max_journal_size)
        return failf(EINVAL, "{}: larger than {} bytes", file, max_journal_size);
    while (pos < text.size()) {
        const size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            break;   // torn: the crash came before the newline (and the fsync)
        ++line;
        auto c = parse_change(text.substr(pos, nl - pos), fmt::format("{}:{}", file, line));
        if (!c)
            return std::unexpected(c.error());
        if (c->seq <= last)
            return failf(EINVAL, "{}:{}: seq {} is not above the previous seq {}", file, line, c->seq,
                         last);
        last = c->seq;
        if (c->seq > s.seq)   // else the snapshot has it already (written before the
            apply(s, *c);     // journal was emptied)
        if (s.rules.size() > max_rules)
            return failf(EINVAL, "{}:{}: more than {} rules", file, line, max_rules);
        if (s.interfaces.size() > max_interfaces)
            return failf(EINVAL, "{}:{}: more than {} interfaces", file, line, max_interfaces);
        pos = nl + 1;
        if (valid_bytes)
            *valid_bytes = pos;
    }
    return {};
}

std::filesystem::path journal_path(const std::filesystem::path &state_file)
{
    auto j = state_file;
    j.replace_extension(".journal");
    return j;
}

Result<State> load(const std::filesystem::path &p)
{
    if (::access(p.c_str(), F_OK) < 0 && errno == ENOENT)
        return State{};
    auto text = read_regular_file(p, max_file_size);
    if (!text)
        return std::unexpected(text.error());
    return parse(*text, p.string());
}

Result<> save(const std::filesystem::path &p, const State &s)
{
    std::string text = format(s);
    auto tmp = p;
    tmp += ".tmp";
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (!fd)
        return io_fail(errno, tmp.string());
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            ::unlink(tmp.c_str());
            return io_fail(err, tmp.string());
        }
        off += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return io_fail(err, tmp.string());
    }
    fd.reset();
    if (::rename(tmp.c_str(), p.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return io_fail(err, p.string());
    }
    // The rename itself is durable once the directory is.
    auto dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd)
        (void)::fsync(dfd.get());
    return {};
}

std::vector<uint64_t> expired(const State &s, uint64_t now_us)
{
    std::vector<uint64_t> out;
    for (const auto &[_, r] : s.rules)
        if (r.expires_at_us != 0 && r.expires_at_us <= now_us)
            out.push_back(r.id);
    return out;
}

std::optional<uint64_t> next_deadline(const State &s, uint64_t now_us)
{
    std::optional<uint64_t> best;
    for (const auto &[_, r] : s.rules)
        if (r.expires_at_us > now_us && (!best || r.expires_at_us < *best))
            best = r.expires_at_us;
    return best;
}

size_t remove(State &s, const std::vector<uint64_t> &ids)
{
    size_t n = 0;
    for (uint64_t id : ids)
        n += s.rules.erase(id);
    return n;
}

const StoredRule *find(const State &s, uint64_t id)
{
    auto it = s.rules.find(id);
    return it != s.rules.end() ? &it->second : nullptr;
}

// ---- Store ---------------------------------------------------------------------------

Store::Store(std::filesystem::path state_file) : file_(std::move(state_file))
{
    if (!file_.empty())
        journal_ = journal_path(file_);
}

Result<State> Store::load()
{
    fd_.reset();
    journal_bytes_ = snapshot_bytes_ = 0;
    if (file_.empty())
        return State{};
    ALOPEX_TRY(s, runtime::load(file_));
    struct stat st{};
    if (::stat(file_.c_str(), &st) == 0)
        snapshot_bytes_ = uint64_t(st.st_size);
    if (::access(journal_.c_str(), F_OK) < 0 && errno == ENOENT)
        return s;
    auto text = read_regular_file(journal_, max_journal_size);
    if (!text)
        return std::unexpected(text.error());
    size_t valid = 0;
    ALOPEX_TRY_VOID(replay(s, *text, journal_.string(), &valid));
    journal_bytes_ = valid;
    return s;
}

Result<> Store::compact(const State &s)
{
    if (file_.empty())
        return {};
    ALOPEX_TRY_VOID(save(file_, s));
    fd_.reset();
    if (::unlink(journal_.c_str()) < 0 && errno != ENOENT)
        return io_fail(errno, journal_.string());
    // Durable once the directory is; should that not happen before a crash, the old
    // journal's changes are at or below the snapshot's seq and replay skips them.
    journal_bytes_ = 0;
    struct stat st{};
    snapshot_bytes_ = ::stat(file_.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
    return {};
}

Result<> Store::append(const std::string &line)
{
    if (!fd_) {
        Fd fd(::open(journal_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640));
        if (!fd)
            return io_fail(errno, journal_.string());
        struct stat st{};
        if (::fstat(fd.get(), &st) < 0)
            return io_fail(errno, journal_.string());
        if (!S_ISREG(st.st_mode))
            return io_fail(EINVAL, journal_.string());
        // Cut off a torn last line (a crash mid-append) so this line starts a line.
        if (uint64_t(st.st_size) > journal_bytes_ && ::ftruncate(fd.get(), off_t(journal_bytes_)) < 0)
            return io_fail(errno, journal_.string());
        journal_bytes_ = std::min<uint64_t>(journal_bytes_, uint64_t(st.st_size));
        // The file may be new: its directory entry must be durable too.
        auto dir = journal_.parent_path().empty() ? std::filesystem::path(".") : journal_.parent_path();
        Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dfd)
            (void)::fsync(dfd.get());
        fd_ = std::move(fd);
    }
    size_t off = 0;
    while (off < line.size()) {
        ssize_t n = ::write(fd_.get(), line.data() + off, line.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            (void)::ftruncate(fd_.get(), off_t(journal_bytes_));   // no half line stays
            return io_fail(err, journal_.string());
        }
        off += size_t(n);
    }
    if (::fdatasync(fd_.get()) < 0) {
        int err = errno;
        (void)::ftruncate(fd_.get(), off_t(journal_bytes_));
        return io_fail(err, journal_.string());
    }
    journal_bytes_ += line.size();
    return {};
}

Result<> Store::record(Change c, State &after)
{
    if (file_.empty())
        return {};
    const uint64_t before = after.seq;
    c.seq = after.seq = before + 1;
    std::string line = format_change(c);
    Result<> r;
    if (journal_bytes_ + line.size() > std::max<uint64_t>(snapshot_bytes_, min_compact_size))
        r = compact(after);
    else
        r = append(line);
    if (!r)
        after.seq = before;
    return r;
}

// ---- Deadlines -----------------------------------------------------------------------

void Deadlines::add(const StoredRule &r)
{
    if (r.expires_at_us != 0)
        by_time_.emplace(r.expires_at_us, r.id);
}

void Deadlines::remove(const StoredRule &r)
{
    by_time_.erase({r.expires_at_us, r.id});
}

void Deadlines::rebuild(const State &s)
{
    by_time_.clear();
    for (const auto &[_, r] : s.rules)
        add(r);
}

std::vector<uint64_t> Deadlines::expired(uint64_t now_us) const
{
    std::vector<uint64_t> out;
    for (auto it = by_time_.begin(); it != by_time_.end() && it->first <= now_us; ++it)
        out.push_back(it->second);
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<uint64_t> Deadlines::next(uint64_t now_us) const
{
    auto it = by_time_.upper_bound({now_us, UINT64_MAX});
    if (it == by_time_.end())
        return std::nullopt;
    return it->first;
}

} // namespace alopex::fwd::runtime
