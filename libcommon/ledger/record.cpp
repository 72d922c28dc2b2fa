// SPDX-License-Identifier: GPL-2.0-or-later
// One ledger record: canonical form, hash, strict parsing and the line format.
#include <openssl/evp.h>

#include <time.h>

#include <algorithm>
#include <array>
#include <set>

#include <nlohmann/json.hpp>

#include "alopex/ledger.hpp"
#include "ledger_internal.hpp"

namespace alopex::ledger {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

std::string sha256_hex(std::string_view bytes)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
        return std::string(64, '?'); // never matches a valid hash
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 15]);
    }
    return out;
}

std::string canonical(const Record &r)
{
    json j = json::object(); // std::map: keys sorted
    j["action"] = r.action;
    j["actor"] = r.actor;
    j["details"] = r.details;
    j["prev"] = r.prev;
    j["seq"] = r.seq;
    j["time"] = r.time;
    // Parsed records are always valid UTF-8; replacing keeps this total for the rest.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string compute_hash(const Record &r) { return sha256_hex(r.prev + canonical(r)); }

std::string to_line(const Record &r)
{
    ordered_json j = ordered_json::object();
    j["seq"] = r.seq;
    j["time"] = r.time;
    j["actor"] = r.actor;
    j["action"] = r.action;
    j["details"] = r.details;
    j["prev"] = r.prev;
    j["hash"] = r.hash;
    return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

namespace detail {
bool is_hex64(std::string_view s)
{
    if (s.size() != 64)
        return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

bool valid_utf8(std::string_view s)
{
    size_t i = 0;
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    while (i < s.size()) {
        unsigned char c = p[i];
        size_t n = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size() || (p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}
} // namespace detail

Result<Record> parse_line(std::string_view line)
{
    static constexpr std::array<std::string_view, 7> fields{"seq", "time", "actor", "action",
                                                            "details", "prev", "hash"};
    std::set<std::string> seen;
    bool duplicate = false;
    json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json &parsed) {
        if (ev == json::parse_event_t::key && depth == 1) {
            const auto &k = parsed.get_ref<const std::string &>();
            if (!seen.insert(k).second)
                duplicate = true;
        }
        return true;
    };
    json j;
    try {
        j = json::parse(line.begin(), line.end(), cb);
    } catch (const json::exception &e) {
        return failf(EINVAL, "not JSON: {}", e.what());
    }
    if (!j.is_object())
        return fail(EINVAL, "not a JSON object");
    if (duplicate)
        return fail(EINVAL, "duplicate key");
    for (auto it = j.begin(); it != j.end(); ++it)
        if (std::find(fields.begin(), fields.end(), it.key()) == fields.end())
            return failf(EINVAL, "unknown field '{}'", it.key());
    Record r;
    for (auto f : fields) {
        auto it = j.find(std::string(f));
        if (it == j.end())
            return failf(EINVAL, "missing field '{}'", f);
        if (f == "seq") {
            if (!it->is_number_unsigned() || it->get<uint64_t>() == 0)
                return fail(EINVAL, "'seq' must be a positive integer");
            r.seq = it->get<uint64_t>();
            continue;
        }
        if (!it->is_string())
            return failf(EINVAL, "'{}' must be a string", f);
        std::string v = it->get<std::string>();
        if ((f == "prev" || f == "hash") && !detail::is_hex64(v))
            return failf(EINVAL, "'{}' must be 64 lower-case hex digits", f);
        if (f == "time")
            r.time = std::move(v);
        else if (f == "actor")
            r.actor = std::move(v);
        else if (f == "action")
            r.action = std::move(v);
        else if (f == "details")
            r.details = std::move(v);
        else if (f == "prev")
            r.prev = std::move(v);
        else
            r.hash = std::move(v);
    }
    return r;
}

std::string now_rfc3339()
{
    struct timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm{};
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}Z", std::string_view(buf, n), ts.tv_nsec / 1000000);
}

} // namespace alopex::ledger
