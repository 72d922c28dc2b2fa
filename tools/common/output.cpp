// SPDX-License-Identifier: GPL-2.0-or-later
#include "output.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace alopex::cli {

using nlohmann::json;

// ---- cells, columns, sections ---------------------------------------------------------

Cell Cell::list(std::vector<std::string> items, std::string_view separator)
{
    Cell c;
    c.items_ = std::move(items);
    c.separator_ = separator;
    return c;
}

Cell Cell::lines(std::vector<std::string> items)
{
    Cell c = list(std::move(items));
    c.lines_ = true;
    return c;
}

Cell Cell::none()
{
    Cell c;
    c.absent_ = true;
    return c;
}

std::string Cell::joined() const
{
    std::string out;
    for (size_t i = 0; i < items_.size(); ++i)
        out += (i ? separator_ : std::string()) + items_[i];
    return out;
}

std::string Column::name() const
{
    std::string n;
    for (char c : header)
        n += c == ' ' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return n;
}

Section::Section(std::vector<Column> columns, Layout l)
    : layout(l), columns_(std::move(columns)), json_rows_(std::make_unique<json>(json::array()))
{
}
Section::~Section() = default;
Section::Section(Section &&) noexcept = default;
Section &Section::operator=(Section &&) noexcept = default;

void Section::add(std::vector<Cell> cells, const json &j)
{
    add(std::move(cells));
    json_rows_->push_back(j);
}

void Section::add(std::vector<Cell> cells)
{
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

json Section::json_value() const
{
    if (json_shape == Json::array)
        return *json_rows_;
    return json_rows_->empty() ? json::object() : json_rows_->front();
}

Document::Document() : extra_(std::make_unique<json>(json::object())) {}
Document::~Document() = default;
Document::Document(Document &&) noexcept = default;
Document &Document::operator=(Document &&) noexcept = default;

void Document::set_json(const std::string &key, const json &value) { (*extra_)[key] = value; }

json Document::json_value() const
{
    if (sections.size() == 1 && sections[0].json_key.empty() && extra_->empty())
        return sections[0].json_value();
    json top = *extra_;
    for (const auto &s : sections) {
        if (!s.json_key.empty())
            top[s.json_key] = s.json_value();
        else if (s.json_shape == Section::Json::object)
            top.update(s.json_value());
    }
    return top;
}

// ---- options ----------------------------------------------------------------------------

namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

} // namespace

Result<> parse_fields(std::string_view given, Format &f)
{
    std::string_view text = given;
    f.fields.clear();
    f.all_fields = false;
    std::vector<std::string> items;
    for (;;) {
        auto comma = text.find(',');
        items.push_back(trim(text.substr(0, comma)));
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    for (const auto &i : items) {
        if (i.empty())
            return failf(EINVAL, "--fields: an empty field name in '{}'", printable(given));
        if (iequals(i, "all") || iequals(i, "common")) {
            if (items.size() > 1)
                return failf(EINVAL, "--fields: '{}' stands alone", i);
            f.all_fields = iequals(i, "all");
            return {};
        }
    }
    f.fields = std::move(items);
    return {};
}

Result<> parse_layout(std::string_view text, Format &f)
{
    if (text == "tabular")
        f.layout = Format::Layout::tabular;
    else if (text == "multiline")
        f.layout = Format::Layout::multiline;
    else
        return failf(EINVAL, "--mode: 'tabular' or 'multiline', not '{}'", printable(text));
    return {};
}

// ---- rendering --------------------------------------------------------------------------

namespace {

struct Shown {
    const Section *section;
    std::vector<size_t> columns;
};

// The columns each section shows; a section with none of the asked fields is left out.
Result<std::vector<Shown>> select(const Document &d, const Format &f)
{
    std::vector<Shown> out;
    std::set<std::string> found;
    for (const auto &s : d.sections) {
        Shown sh{&s, {}};
        const auto &cols = s.columns();
        if (f.fields.empty()) {
            for (size_t i = 0; i < cols.size(); ++i)
                if (f.all_fields || cols[i].common)
                    sh.columns.push_back(i);
        } else {
            for (const auto &want : f.fields)
                for (size_t i = 0; i < cols.size(); ++i)
                    if (iequals(cols[i].name(), want)) {
                        sh.columns.push_back(i);
                        found.insert(want);
                    }
            if (sh.columns.empty())
                continue;
        }
        out.push_back(std::move(sh));
    }
    for (const auto &want : f.fields) {
        if (found.contains(want))
            continue;
        std::vector<std::string> names;
        for (const auto &s : d.sections)
            for (const auto &c : s.columns())
                if (std::find(names.begin(), names.end(), c.name()) == names.end())
                    names.push_back(c.name());
        return failf(EINVAL, "--fields: no field '{}' here; there are: {}", printable(want),
                     names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ",")));
    }
    return out;
}

std::string human(const Cell &c)
{
    std::string v = c.shown() ? *c.shown() : c.absent() ? std::string() : c.joined();
    return v.empty() ? std::string("-") : printable(v);
}

// One line of text for people: a newline in it is shown as \n, never starts a line.
std::string line_of(std::string_view text) { return printable(text) + "\n"; }

std::string people_table(const Shown &sh)
{
    const Section &s = *sh.section;
    if (s.rows().empty() && !s.when_empty.empty())
        return line_of(s.when_empty);
    std::vector<std::string> header;
    for (size_t c : sh.columns)
        header.push_back(s.columns()[c].header);
    std::vector<std::vector<std::string>> rows;
    for (const auto &r : s.rows()) {
        rows.emplace_back();
        for (size_t c : sh.columns)
            rows.back().push_back(human(r[c]));
    }
    return format_table(header, rows);
}

std::string people_records(const Shown &sh, bool explicit_fields)
{
    const Section &s = *sh.section;
    std::vector<size_t> cols;
    for (size_t c : sh.columns)
        if (explicit_fields || s.columns()[c].in_record)
            cols.push_back(c);
    size_t width = s.record_width;
    if (width == 0) {
        for (size_t c : cols)
            width = std::max(width, display_width(s.columns()[c].header));
        width += 2;
    }
    std::string out;
    std::string indent(s.record_indent, ' ');
    auto line = [&](const std::string &label, const std::string &value) {
        size_t w = display_width(label);
        out += indent + label + std::string(w < width ? width - w : 1, ' ') + value + "\n";
    };
    for (size_t i = 0; i < s.rows().size(); ++i) {
        if (i > 0)
            out += "\n";
        for (size_t c : cols) {
            const Cell &cell = s.rows()[i][c];
            const std::string &label = s.columns()[c].header;
            if (cell.absent())
                continue;
            if (cell.one_per_line()) {
                for (const auto &item : cell.items())
                    line(label, item.empty() ? "-" : printable(item));
            } else {
                line(label, human(cell));
            }
        }
    }
    if (s.rows().empty() && !s.when_empty.empty())
        out += line_of(s.when_empty);
    return out;
}

std::string people(const Shown &sh, const Format &f)
{
    const Section &s = *sh.section;
    bool explicit_fields = f.all_fields || !f.fields.empty();
    if (s.text && !explicit_fields && f.layout == Format::Layout::as_is)
        return line_of(*s.text);
    bool record = f.layout == Format::Layout::multiline ||
                  (f.layout == Format::Layout::as_is && s.layout == Section::Layout::record);
    std::string out = s.title.empty() ? std::string() : line_of(s.title);
    out += record ? people_records(sh, explicit_fields) : people_table(sh);
    if (!s.footer.empty())
        out += line_of(s.footer);
    return out;
}

std::string terse(const Shown &sh, const Format &f)
{
    const Section &s = *sh.section;
    bool record = f.layout == Format::Layout::multiline ||
                  (f.layout == Format::Layout::as_is && s.layout == Section::Layout::record);
    std::string out;
    for (const auto &row : s.rows()) {
        if (record) {
            for (size_t c : sh.columns) {
                const Cell &cell = row[c];
                std::string name = s.columns()[c].name();
                if (cell.one_per_line()) {
                    for (size_t i = 0; i < cell.items().size(); ++i)
                        out += fmt::format("{}[{}]:{}\n", name, i + 1, terse_escape(cell.items()[i], false));
                } else {
                    out += name + ":" + (cell.absent() ? std::string() : terse_escape(cell.joined(), false)) + "\n";
                }
            }
        } else {
            std::string line;
            for (size_t i = 0; i < sh.columns.size(); ++i) {
                const Cell &cell = row[sh.columns[i]];
                if (i > 0)
                    line += ':';
                if (!cell.absent())
                    line += terse_escape(cell.joined());
            }
            out += line + "\n";
        }
    }
    return out;
}

} // namespace

Result<std::string> render(const Document &d, const Format &f)
{
    if (f.mode == Format::Mode::json)
        return d.json_value().dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    ALOPEX_TRY(shown, select(d, f));
    std::string out;
    for (const auto &sh : shown) {
        std::string part = f.mode == Format::Mode::terse ? terse(sh, f) : people(sh, f);
        if (part.empty())
            continue;
        if (!out.empty())
            out += "\n";
        out += part;
    }
    return out;
}

// ---- text helpers -----------------------------------------------------------------------

namespace {
std::string escaped(std::string_view s, bool colon)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\\')
            out += "\\\\";
        else if (colon && c == ':')
            out += "\\:";
        else if (u < 0x20 || u == 0x7f)
            out += fmt::format("\\x{:02x}", u);
        else
            out += c;
    }
    return out;
}
} // namespace

std::string printable(std::string_view s) { return escaped(s, false); }

std::string terse_escape(std::string_view s, bool colon) { return escaped(s, colon); }

size_t display_width(std::string_view s)
{
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string ellipsize(std::string_view s, size_t max)
{
    if (display_width(s) <= max)
        return std::string(s);
    if (max == 0)
        return {};
    std::string out;
    size_t points = 0;
    for (char c : s) {
        bool starts = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        if (starts && ++points > max - 1)
            break;
        out += c;
    }
    return out + "…";
}

std::string format_table(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows)
{
    std::vector<size_t> width(header.size(), 0);
    auto measure = [&](const std::vector<std::string> &r) {
        for (size_t i = 0; i < r.size() && i < width.size(); i++)
            width[i] = std::max(width[i], display_width(r[i]));
    };
    measure(header);
    for (const auto &r : rows)
        measure(r);

    std::string out;
    auto line = [&](const std::vector<std::string> &r) {
        std::string l;
        for (size_t i = 0; i < width.size(); i++) {
            std::string_view cell = i < r.size() ? std::string_view(r[i]) : std::string_view();
            if (i > 0)
                l += "  ";
            l += cell;
            if (i + 1 < width.size())
                l.append(width[i] - display_width(cell), ' ');
        }
        while (!l.empty() && l.back() == ' ')
            l.pop_back();
        out += l;
        out += '\n';
    };
    line(header);
    for (const auto &r : rows)
        line(r);
    return out;
}

} // namespace alopex::cli
