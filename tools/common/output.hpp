// SPDX-License-Identifier: GPL-2.0-or-later
// The command-line tools' output model. A command builds one Document: Sections of rows
// under named Columns, each row its cells (text) and its JSON object; render() turns it
// into what the user asked for:
//
//   people (default)  a table (columns padded to the widest cell, "-" for an empty one),
//                     or for a section that shows one object a record of "label  value"
//                     lines; control characters escaped, so a peer's string cannot drive
//                     the terminal or forge a line
//   -t, --terse       for scripts, after nmcli: no header, the fields of a row separated by
//                     ':', with ':' and '\' in a value escaped by '\' (control characters
//                     as \n, \t, \xNN); a record section prints "FIELD:value" lines
//                     (FIELD[1]:..., FIELD[2]:... for a value with several lines), as
//                     nmcli's multiline mode does, where ':' is not escaped
//   -f FIELD,...      these columns, in this order (FIELD is a column's header in upper
//                     case with '-' for blanks, matched without regard to case); "all":
//                     every column; without -f the common columns
//   -m tabular|multiline
//                     every section as a table, or every row as a record
//   --json            the document's JSON (each row's object, laid out as the section
//                     says); -t, -f and -m do not apply to it
//
// A value made of several items is joined with " | " (nmcli's separator for multi-valued
// fields) unless the column gives another separator ("," for lists inside one value,
// as nmcli prints ipv4.dns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alopex/error.hpp"

namespace alopex::cli {

class Cell {
public:
    Cell() = default;   // empty: "-" for people, "" in terse output
    Cell(std::string text) : items_{std::move(text)} {}
    Cell(const char *text) : items_{std::string(text ? text : "")} {}
    Cell(std::string_view text) : items_{std::string(text)} {}
    template <typename T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
    Cell(T v) : items_{std::to_string(v)}
    {
    }

    // Several items joined with `separator` (in records too).
    static Cell list(std::vector<std::string> items, std::string_view separator = " | ");
    // Several items, one line each in a record (FIELD[n] in terse records); joined with
    // " | " in tables and terse rows.
    static Cell lines(std::vector<std::string> items);
    // Nothing to show: a record leaves its line out ("-" / "" elsewhere).
    static Cell none();
    static Cell yes_no(bool v) { return Cell(v ? "yes" : "no"); }

    // What people see instead of the value (tables, records); terse output and -f keep
    // the value: "wan *" for the default zone "wan", "error: ..." for a missing version.
    Cell &shown_as(std::string text) &
    {
        shown_ = std::move(text);
        return *this;
    }
    Cell &&shown_as(std::string text) && { return std::move(shown_as(std::move(text))); }

    bool absent() const noexcept { return absent_; }
    bool one_per_line() const noexcept { return lines_; }
    const std::vector<std::string> &items() const noexcept { return items_; }
    const std::optional<std::string> &shown() const noexcept { return shown_; }
    std::string joined() const;

private:
    std::vector<std::string> items_;
    std::string separator_ = " | ";
    std::optional<std::string> shown_;
    bool lines_ = false;
    bool absent_ = false;
};

struct Column {
    std::string header;     // as people see it: "BUS NAME", "default zone"
    bool common = true;     // shown without -f (otherwise with -f NAME or -f all)
    bool in_record = true;  // a line of its own in a record (false: the section's title says it)
    Column(std::string h, bool c = true, bool r = true) : header(std::move(h)), common(c), in_record(r) {}
    Column(const char *h, bool c = true, bool r = true) : Column(std::string(h), c, r) {}
    // For -f and terse records: upper case, blanks as '-' ("BUS-NAME").
    std::string name() const;
};

class Section {
public:
    enum class Layout { table, record };
    enum class Json { array, object };   // the rows as an array, or the one row as an object

    explicit Section(std::vector<Column> columns, Layout layout = Layout::table);
    ~Section();
    Section(Section &&) noexcept;
    Section &operator=(Section &&) noexcept;

    // One row: a cell per column, and its JSON object (left out of the JSON without one).
    void add(std::vector<Cell> cells, const nlohmann::json &json);
    void add(std::vector<Cell> cells);

    // For people only, each one line (control characters escaped like values):
    std::string title;                  // a line before it ("Runtime rules:", "7: eth0")
    std::string when_empty;             // instead of a table without rows ("(none)")
    std::string footer;                 // a line after it
    std::optional<std::string> text;    // says it all in one line, unless -f or -m is given
    size_t record_indent = 0;           // records: spaces before each label
    size_t record_width = 0;            // records: the label column (0: widest label + 2)

    // JSON: under this key of the document's object; empty: the section is the document.
    std::string json_key;
    Json json_shape = Json::array;

    Layout layout;
    const std::vector<Column> &columns() const noexcept { return columns_; }
    const std::vector<std::vector<Cell>> &rows() const noexcept { return rows_; }
    nlohmann::json json_value() const;  // the rows' JSON as the section lays it out

private:
    std::vector<Column> columns_;
    std::vector<std::vector<Cell>> rows_;
    std::unique_ptr<nlohmann::json> json_rows_;   // an array
};

class Document {
public:
    Document();
    ~Document();
    Document(Document &&) noexcept;
    Document &operator=(Document &&) noexcept;

    std::vector<Section> sections;
    // A top-level JSON field beside the sections ("default_zone").
    void set_json(const std::string &key, const nlohmann::json &value);
    nlohmann::json json_value() const;

private:
    std::unique_ptr<nlohmann::json> extra_;   // an object
};

struct Format {
    enum class Mode { people, terse, json };
    enum class Layout { as_is, tabular, multiline };
    Mode mode = Mode::people;
    Layout layout = Layout::as_is;
    bool all_fields = false;
    std::vector<std::string> fields;   // -f, in order; empty: the common columns
};

// "-f" / "-m" values. Errors name the option.
Result<> parse_fields(std::string_view text, Format &f);
Result<> parse_layout(std::string_view text, Format &f);

// The document as `f` asks; a field no section has is an InvalidArgument naming the
// fields there are. Ends with a newline unless empty.
Result<std::string> render(const Document &d, const Format &f);

// ---- text helpers -----------------------------------------------------------------------

// Control characters as \n, \t, \xNN and '\' as "\\": one value stays on one line and
// cannot drive the terminal.
std::string printable(std::string_view s);
// Terse (nmcli): printable(), and ':' as "\:" when `colon`.
std::string terse_escape(std::string_view s, bool colon = true);
// Code points (UTF-8 continuation bytes do not count).
size_t display_width(std::string_view s);
// At most `max` code points; a cut string ends with "…".
std::string ellipsize(std::string_view s, size_t max);
// Columns separated by two spaces, each padded to its widest cell; the last column is
// not padded and no line has trailing blanks. Cells are used as they are.
std::string format_table(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows);

} // namespace alopex::cli
