// SPDX-License-Identifier: GPL-2.0-or-later
#include "datum.hpp"

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

#include "alopex/net.hpp"

namespace alopex::ovs::ovsdb {

using json = nlohmann::json;

namespace {

std::string brief(const json &j)
{
    std::string s = j.dump(-1, ' ', true, json::error_handler_t::replace);   // ASCII: cut anywhere
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

Result<Atom> decode_atom(const json &j, AtomType t, std::string_view what)
{
    switch (t) {
    case AtomType::Integer:
        if (j.is_number_integer() && !(j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX))
            return Atom{j.get<int64_t>()};
        break;
    case AtomType::Real:
        if (j.is_number())
            return Atom{j.get<double>()};
        break;
    case AtomType::Boolean:
        if (j.is_boolean())
            return Atom{j.get<bool>()};
        break;
    case AtomType::String:
        if (j.is_string())
            return Atom{j.get<std::string>()};
        break;
    case AtomType::Uuid:
        if (j.is_array() && j.size() == 2 && j[0].is_string() && j[0].get_ref<const std::string &>() == "uuid" &&
            j[1].is_string()) {
            auto u = Uuid::parse(j[1].get_ref<const std::string &>());
            if (!u)
                return failf(EBADMSG, "{}: {}", what, u.error().message);
            return Atom{*u};
        }
        break;
    }
    return failf(EBADMSG, "{}: {} is not {} {}", what, brief(j), t == AtomType::Integer ? "an" : "a", to_string(t));
}

// ["set", [...]] or ["map", [...]]: the list, when `j` is that form.
const json *tagged(const json &j, const char *tag)
{
    if (j.is_array() && j.size() == 2 && j[0].is_string() && j[0].get_ref<const std::string &>() == tag &&
        j[1].is_array())
        return &j[1];
    return nullptr;
}

} // namespace

Result<Uuid> Uuid::parse(std::string_view text)
{
    Uuid u;
    size_t n = 0;
    bool ok = text.size() == 36;
    for (size_t i = 0; ok && i < text.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            ok = text[i] == '-';
            continue;
        }
        int v = net::hex_digit(text[i]);
        ok = v >= 0;
        if (ok) {
            u.bytes_[n / 2] = static_cast<uint8_t>(u.bytes_[n / 2] << 4 | v);
            ++n;
        }
    }
    if (!ok)
        return failf(EBADMSG, "{} is not a UUID", brief(json(std::string(text))));
    return u;
}

std::string Uuid::to_string() const
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s.push_back('-');
        s.push_back(digits[bytes_[i] >> 4]);
        s.push_back(digits[bytes_[i] & 15]);
    }
    return s;
}

std::string_view to_string(AtomType t)
{
    static constexpr std::string_view names[] = {"integer", "real", "boolean", "string", "uuid"};
    static_assert(std::size(names) == static_cast<size_t>(AtomType::Uuid) + 1);
    return names[static_cast<size_t>(t)];
}

AtomType type_of(const Atom &a)
{
    return static_cast<AtomType>(a.index());
}

Datum Datum::default_of(const ColumnType &t)
{
    Datum d;
    if (t.min == 0)
        return d;
    static const Atom zeros[] = {int64_t{0}, 0.0, false, std::string(), Uuid()};
    d.keys_.push_back(zeros[static_cast<size_t>(t.key)]);
    if (t.value)
        d.values_.push_back(zeros[static_cast<size_t>(*t.value)]);
    return d;
}

Datum Datum::atom(Atom a)
{
    Datum d;
    d.keys_.push_back(std::move(a));
    return d;
}

bool Datum::contains(const Atom &key) const
{
    return std::binary_search(keys_.begin(), keys_.end(), key);
}

const Atom *Datum::find(const Atom &key) const
{
    auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
    if (it == keys_.end() || *it != key || values_.empty())
        return nullptr;
    return &values_[static_cast<size_t>(it - keys_.begin())];
}

void Datum::apply_diff(const Datum &diff, const ColumnType &t)
{
    if (t.is_single()) {
        *this = diff;
        return;
    }
    Datum out;
    size_t i = 0, j = 0;
    auto take = [&out](const std::vector<Atom> &k, const std::vector<Atom> &v, size_t at) {
        out.keys_.push_back(k[at]);
        if (!v.empty())
            out.values_.push_back(v[at]);
    };
    // A merge of two sorted lists: what only one side has is kept (a set's symmetric
    // difference; a map's added keys), a key on both sides goes (a set; a map whose value
    // is the same) or takes the diff's value (a map's changed key).
    while (i < keys_.size() || j < diff.keys_.size()) {
        if (j == diff.keys_.size() || (i < keys_.size() && keys_[i] < diff.keys_[j])) {
            take(keys_, values_, i++);
        } else if (i == keys_.size() || diff.keys_[j] < keys_[i]) {
            take(diff.keys_, diff.values_, j++);
        } else {
            if (t.is_map() && values_[i] != diff.values_[j])
                take(diff.keys_, diff.values_, j);
            ++i, ++j;
        }
    }
    *this = std::move(out);
}

Result<Datum> decode_datum(const json &j, const ColumnType &t, std::string_view what, bool check_count)
{
    Datum d;
    if (t.is_map()) {
        const json *pairs = tagged(j, "map");
        if (!pairs)
            return failf(EBADMSG, "{}: {} is not a map ([\"map\", [[key, value], ...]])", what, brief(j));
        std::vector<std::pair<Atom, Atom>> kv;
        kv.reserve(pairs->size());
        for (const json &p : *pairs) {
            if (!p.is_array() || p.size() != 2)
                return failf(EBADMSG, "{}: {} is not a [key, value] pair", what, brief(p));
            ALOPEX_TRY(k, decode_atom(p[0], t.key, what));
            ALOPEX_TRY(v, decode_atom(p[1], *t.value, what));
            kv.emplace_back(std::move(k), std::move(v));
        }
        std::sort(kv.begin(), kv.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        for (auto &[k, v] : kv) {
            if (!d.keys_.empty() && d.keys_.back() == k)
                return failf(EBADMSG, "{}: a key twice in a map", what);
            d.keys_.push_back(std::move(k));
            d.values_.push_back(std::move(v));
        }
    } else if (const json *list = tagged(j, "set")) {
        d.keys_.reserve(list->size());
        for (const json &e : *list) {
            ALOPEX_TRY(a, decode_atom(e, t.key, what));
            d.keys_.push_back(std::move(a));
        }
        std::sort(d.keys_.begin(), d.keys_.end());
        if (std::adjacent_find(d.keys_.begin(), d.keys_.end()) != d.keys_.end())
            return failf(EBADMSG, "{}: a member twice in a set", what);
    } else {
        ALOPEX_TRY(a, decode_atom(j, t.key, what));
        d.keys_.push_back(std::move(a));
    }
    if (check_count && (d.size() < t.min || (t.max && d.size() > t.max)))
        return failf(EBADMSG, "{}: {} elements, the column takes {}..{}", what, d.size(), t.min,
                     t.max ? std::to_string(t.max) : std::string("unlimited"));
    return d;
}

json encode_atom(const Atom &a)
{
    switch (type_of(a)) {
    case AtomType::Integer: return std::get<int64_t>(a);
    case AtomType::Real: return std::get<double>(a);
    case AtomType::Boolean: return std::get<bool>(a);
    case AtomType::String: return std::get<std::string>(a);
    case AtomType::Uuid: return json::array({"uuid", std::get<Uuid>(a).to_string()});
    }
    return nullptr;
}

json encode_datum(const Datum &d, const ColumnType &t)
{
    if (t.is_map()) {
        json pairs = json::array();
        for (size_t i = 0; i < d.size(); ++i)
            pairs.push_back(json::array({encode_atom(d.keys()[i]), encode_atom(d.values()[i])}));
        return json::array({"map", std::move(pairs)});
    }
    if (d.size() == 1)
        return encode_atom(d.keys().front());
    json list = json::array();
    for (const Atom &a : d.keys())
        list.push_back(encode_atom(a));
    return json::array({"set", std::move(list)});
}

} // namespace alopex::ovs::ovsdb
