// SPDX-License-Identifier: GPL-2.0-or-later
// runtime.json: strict parse, canonical format, atomic save, expiry helpers.
#include "runtime.hpp"

#include <fcntl.h>
#include <unistd.h>

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

Result<StoredRule> parse_rule(const json &j, size_t index, const Bad &bad)
{
    auto where = fmt::format("rules[{}]", index);
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
    ALOPEX_TRY_VOID(only_keys(j, {"version", "next_id", "panic", "interfaces", "rules"}, "top level", bad));
    auto version = j.find("version");
    if (version == j.end() || !version->is_number_unsigned() || version->get<uint64_t>() != 1)
        return bad("'version' must be 1");
    State s;
    auto next = j.find("next_id");
    if (next == j.end() || !next->is_number_unsigned() || next->get<uint64_t>() == 0)
        return bad("'next_id' must be an integer > 0");
    s.next_id = next->get<uint64_t>();
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
            ALOPEX_TRY(r, parse_rule((*rules)[i], i, bad));
            if (r.id <= last)
                return bad("rules[{}]: id {} is not above the previous id {}", i, r.id, last);
            if (r.id >= s.next_id)
                return bad("rules[{}]: id {} is not below next_id {}", i, r.id, s.next_id);
            last = r.id;
            s.rules.push_back(std::move(r));
        }
    }
    return s;
}

std::string format(const State &s)
{
    json j = json::object();
    j["version"] = 1;
    j["next_id"] = s.next_id;
    j["panic"] = s.panic;
    json ifs = json::object();
    for (const auto &[n, z] : s.interfaces)
        ifs[n] = z;
    j["interfaces"] = std::move(ifs);
    json rules = json::array();
    for (const auto &r : s.rules)
        rules.push_back(json{{"id", r.id}, {"zone", r.zone}, {"spec", r.spec},
                             {"expires_at_us", r.expires_at_us}, {"comment", r.comment}});
    j["rules"] = std::move(rules);
    // Replace invalid UTF-8 rather than throw (comments and specs were checked, but a
    // state written by hand might not have been).
    return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
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
    for (const auto &r : s.rules)
        if (r.expires_at_us != 0 && r.expires_at_us <= now_us)
            out.push_back(r.id);
    return out;
}

std::optional<uint64_t> next_deadline(const State &s, uint64_t now_us)
{
    std::optional<uint64_t> best;
    for (const auto &r : s.rules)
        if (r.expires_at_us > now_us && (!best || r.expires_at_us < *best))
            best = r.expires_at_us;
    return best;
}

size_t remove(State &s, const std::vector<uint64_t> &ids)
{
    std::set<uint64_t> drop(ids.begin(), ids.end());
    auto before = s.rules.size();
    std::erase_if(s.rules, [&](const StoredRule &r) { return drop.contains(r.id); });
    return before - s.rules.size();
}

const StoredRule *find(const State &s, uint64_t id)
{
    auto it = std::lower_bound(s.rules.begin(), s.rules.end(), id,
                               [](const StoredRule &r, uint64_t v) { return r.id < v; });
    return it != s.rules.end() && it->id == id ? &*it : nullptr;
}

} // namespace alopex::fwd::runtime
