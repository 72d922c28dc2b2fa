// SPDX-License-Identifier: GPL-2.0-or-later
// OVSDB's values (RFC 7047 §5.1) as the agent holds them, pure: an Atom is an integer,
// a real, a boolean, a string or a UUID; a Datum is a column's value, a set of atoms
// (sorted, no duplicates) or a map (sorted by key). The JSON forms are decoded against
// the column's type from the schema (schema.hpp), so a value of the wrong type, a
// malformed UUID, a duplicate set member or map key, or a count outside the column's
// min..max is an error that names the column; nothing from the server is taken on trust.
//
// A column whose max is 1 (a scalar, or an optional value like Port.tag) is a set of 0
// or 1 atoms; the JSON form of a one-atom set may be the bare atom (§5.1), and
// ovsdb-server sends it so.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"

namespace alopex::ovs::ovsdb {

class Uuid {
public:
    constexpr Uuid() = default;
    // "550e8400-e29b-41d4-a716-446655440000": 8-4-4-4-12 hex digits of either case.
    static Result<Uuid> parse(std::string_view text);
    std::string to_string() const;   // lowercase
    bool is_zero() const noexcept { return bytes_ == std::array<uint8_t, 16>{}; }
    auto operator<=>(const Uuid &) const = default;
    bool operator==(const Uuid &) const = default;

private:
    std::array<uint8_t, 16> bytes_{};
};

enum class AtomType : uint8_t { Integer, Real, Boolean, String, Uuid };
std::string_view to_string(AtomType t);

using Atom = std::variant<int64_t, double, bool, std::string, Uuid>;
AtomType type_of(const Atom &a);

// A column's type (RFC 7047 §3.2 <type>): the key's atomic type, the value's for a map,
// and how many elements (max 0: unlimited).
struct ColumnType {
    AtomType key = AtomType::String;
    std::optional<AtomType> value;
    unsigned min = 1, max = 1;
    bool is_map() const noexcept { return value.has_value(); }
    // At most one element, not a map: an update2 diff is the new value.
    bool is_single() const noexcept { return max == 1 && !value; }
    bool operator==(const ColumnType &) const = default;
};

class Datum {
public:
    Datum() = default;
    // The column's default (RFC 7047 §5.1's defaults): empty when min is 0, else the
    // key type's zero (0, 0.0, false, "", the all-zero UUID).
    static Datum default_of(const ColumnType &t);
    static Datum atom(Atom a);

    const std::vector<Atom> &keys() const noexcept { return keys_; }
    const std::vector<Atom> &values() const noexcept { return values_; }   // a map's, by key
    size_t size() const noexcept { return keys_.size(); }
    bool empty() const noexcept { return keys_.empty(); }
    bool contains(const Atom &key) const;
    // A map's value at `key`, or null.
    const Atom *find(const Atom &key) const;
    // The one atom of a single-valued datum, or null when empty.
    const Atom *single() const noexcept { return keys_.empty() ? nullptr : &keys_.front(); }

    // Applies an update2 "modify" diff (ovsdb-server(7) §4.1.14): a single-valued column
    // takes the diff as its new value; a set takes the symmetric difference; a map adds
    // the diff's keys it lacks, removes those with the same value and replaces the others.
    void apply_diff(const Datum &diff, const ColumnType &t);

    bool operator==(const Datum &) const = default;

private:
    friend Result<Datum> decode_datum(const nlohmann::json &j, const ColumnType &t, std::string_view what,
                                      bool check_count);
    std::vector<Atom> keys_, values_;
};

// The JSON form of a datum of type `t`; an error names `what` (the column). A diff is
// decoded with check_count off: its size says nothing about the column's.
Result<Datum> decode_datum(const nlohmann::json &j, const ColumnType &t, std::string_view what,
                           bool check_count = true);
// The JSON form: a bare atom for one atom of a set column (as ovsdb-server writes it),
// ["set", [...]] otherwise, ["map", [[k, v], ...]] for a map.
nlohmann::json encode_datum(const Datum &d, const ColumnType &t);
nlohmann::json encode_atom(const Atom &a);

} // namespace alopex::ovs::ovsdb
