// SPDX-License-Identifier: GPL-2.0-or-later
// The only translation unit that sees toml++; it also holds toml++'s compiled
// implementation (TOML_HEADER_ONLY=0 comes from dep_config's compile_args).
//
// toml++ 3.3 guards parser invariants with TOML_ASSERT / TOML_ASSERT_ASSUME, which become
// assert() (abort) or, under NDEBUG, __builtin_assume (undefined behaviour) -- and hostile
// input reaches at least one of them (fuzz-config: "[[`" trips parse_key()). Here every
// such check throws instead; Document::parse() turns that into a syntax error. NDEBUG is
// lifted around the include so the checks exist in every build type.
#include <stdexcept>

namespace alopex::config::detail {
struct TomlInvariant : std::logic_error {
    using std::logic_error::logic_error;
};
[[noreturn]] inline void toml_invariant_failed(const char *expr)
{
    throw TomlInvariant(expr);
}
} // namespace alopex::config::detail

#pragma push_macro("NDEBUG")
#undef NDEBUG
#define TOML_ASSERT(expr)                                                                  \
    ((expr) ? static_cast<void>(0) : ::alopex::config::detail::toml_invariant_failed(#expr))
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
#pragma pop_macro("NDEBUG")

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "alopex/config.hpp"
#include "alopex/fd.hpp"
#include "alopex/file.hpp"

namespace alopex::config {

struct Source {
    std::string file;
    toml::table table;
};

namespace {

constexpr size_t max_file_size = 16u << 20;

const toml::node *tn(const void *p) { return static_cast<const toml::node *>(p); }

Position pos_of(const toml::source_region &r)
{
    return Position{r.begin.line, r.begin.column};
}

Kind kind_of(const toml::node *n)
{
    if (!n)
        return Kind::none;
    switch (n->type()) {
    case toml::node_type::table: return Kind::table;
    case toml::node_type::array: return Kind::array;
    case toml::node_type::string: return Kind::string;
    case toml::node_type::integer: return Kind::integer;
    case toml::node_type::floating_point: return Kind::floating;
    case toml::node_type::boolean: return Kind::boolean;
    case toml::node_type::date: return Kind::date;
    case toml::node_type::time: return Kind::time;
    case toml::node_type::date_time: return Kind::date_time;
    default: return Kind::none;
    }
}

std::string child_name(const std::string &parent, std::string_view key)
{
    if (parent.empty())
        return std::string(key);
    return parent + "." + std::string(key);
}

std::string table_label(const std::string &name)
{
    return name.empty() ? std::string("the top level") : "[" + name + "]";
}

} // namespace

std::string_view to_string(Kind k)
{
    switch (k) {
    case Kind::none: return "nothing";
    case Kind::table: return "table";
    case Kind::array: return "array";
    case Kind::string: return "string";
    case Kind::integer: return "integer";
    case Kind::floating: return "float";
    case Kind::boolean: return "boolean";
    case Kind::date: return "date";
    case Kind::time: return "time";
    case Kind::date_time: return "date-time";
    }
    return "nothing";
}

std::string format_at(std::string_view file, Position pos, std::string_view message)
{
    if (pos.line == 0)
        return fmt::format("{}: {}", file, message);
    return fmt::format("{}:{}:{}: {}", file, pos.line, pos.column ? pos.column : 1, message);
}

// ---- Node -------------------------------------------------------------------------

Kind Node::kind() const { return kind_of(tn(node_)); }

Position Node::position() const
{
    if (!node_)
        return {};
    Position p = pos_of(tn(node_)->source());
    return p;
}

std::string Node::where() const
{
    Position p = position();
    return fmt::format("{}:{}:{}", src_ ? src_->file : std::string("?"), p.line, p.column);
}

Error Node::error(std::string message) const
{
    Position p = position();
    if (p.line == 0)
        p = Position{1, 1};
    return Error{EINVAL, format_at(src_ ? src_->file : std::string("?"), p, message), {}};
}

namespace {
std::unexpected<Error> type_error(const Node &n, std::string_view want)
{
    std::string what = n.name().empty() ? std::string("value") : "'" + n.name() + "'";
    return n.failf("{} must be {}, not {}", what, want, to_string(n.kind()));
}
} // namespace

Result<std::string> Node::as_string() const
{
    if (auto *v = node_ ? tn(node_)->as_string() : nullptr)
        return std::string(v->get());
    return type_error(*this, "a string");
}

Result<int64_t> Node::as_integer() const
{
    if (auto *v = node_ ? tn(node_)->as_integer() : nullptr)
        return static_cast<int64_t>(v->get());
    return type_error(*this, "an integer");
}

Result<bool> Node::as_boolean() const
{
    if (auto *v = node_ ? tn(node_)->as_boolean() : nullptr)
        return v->get();
    return type_error(*this, "a boolean");
}

Result<double> Node::as_floating() const
{
    if (auto *v = node_ ? tn(node_)->as_floating_point() : nullptr)
        return v->get();
    if (auto *v = node_ ? tn(node_)->as_integer() : nullptr)
        return static_cast<double>(v->get());
    return type_error(*this, "a number");
}

Result<Table> Node::as_table() const
{
    if (node_ && tn(node_)->is_table())
        return Table(*this);
    return type_error(*this, "a table");
}

Result<Array> Node::as_array() const
{
    if (node_ && tn(node_)->is_array())
        return Array(*this);
    return type_error(*this, "an array");
}

// ---- Table ------------------------------------------------------------------------

namespace {
const toml::table *tt(const void *p) { return p ? tn(p)->as_table() : nullptr; }
} // namespace

Position Table::position() const { return self_.position(); }
std::string Table::where() const { return self_.where(); }

size_t Table::size() const
{
    auto *t = tt(self_.node_);
    return t ? t->size() : 0;
}

bool Table::contains(std::string_view key) const
{
    auto *t = tt(self_.node_);
    return t && t->contains(key);
}

std::vector<std::pair<std::string, Node>> Table::entries() const
{
    std::vector<std::pair<std::string, Node>> out;
    auto *t = tt(self_.node_);
    if (!t)
        return out;
    std::vector<std::pair<const toml::key *, const toml::node *>> raw;
    for (auto &&[k, v] : *t)
        raw.emplace_back(&k, &v);
    std::stable_sort(raw.begin(), raw.end(), [](const auto &a, const auto &b) {
        auto pa = a.first->source().begin, pb = b.first->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    for (auto &[k, v] : raw)
        out.emplace_back(std::string(k->str()),
                         Node(v, self_.src_, child_name(self_.name(), k->str())));
    return out;
}

Result<void> Table::require_known_keys(std::initializer_list<std::string_view> known) const
{
    auto *t = tt(self_.node_);
    if (!t)
        return {};
    const toml::key *first = nullptr;
    for (auto &&[k, v] : *t) {
        (void)v;
        if (std::find(known.begin(), known.end(), k.str()) != known.end())
            continue;
        if (!first) {
            first = &k;
            continue;
        }
        auto pa = k.source().begin, pb = first->source().begin;
        if (pa.line < pb.line || (pa.line == pb.line && pa.column < pb.column))
            first = &k;
    }
    if (!first)
        return {};
    Position p = pos_of(first->source());
    if (p.line == 0)
        p = self_.position();
    return std::unexpected<Error>(Error{
        EINVAL,
        format_at(self_.src_ ? self_.src_->file : std::string("?"), p.line ? p : Position{1, 1},
                  fmt::format("unknown key '{}' in {}", first->str(), table_label(self_.name()))),
        {}});
}

std::optional<Node> Table::get(std::string_view key) const
{
    auto *t = tt(self_.node_);
    if (!t)
        return std::nullopt;
    const toml::node *n = t->get(key);
    if (!n)
        return std::nullopt;
    return Node(n, self_.src_, child_name(self_.name(), key));
}

Result<Node> Table::require(std::string_view key) const
{
    if (auto n = get(key))
        return *n;
    return self_.failf("missing required key '{}' in {}", key, table_label(self_.name()));
}

Result<std::string> Table::required_string(std::string_view key) const
{
    auto n = require(key);
    if (!n)
        return std::unexpected<Error>(std::move(n.error()));
    return n->as_string();
}

Result<int64_t> Table::required_integer(std::string_view key) const
{
    auto n = require(key);
    if (!n)
        return std::unexpected<Error>(std::move(n.error()));
    return n->as_integer();
}

namespace {
template <typename T, typename F>
Result<std::optional<T>> optional_of(const Table &t, std::string_view key, F &&conv)
{
    auto n = t.get(key);
    if (!n)
        return std::optional<T>{};
    auto v = conv(*n);
    if (!v)
        return std::unexpected<Error>(std::move(v.error()));
    return std::optional<T>(std::move(*v));
}
} // namespace

Result<std::optional<std::string>> Table::optional_string(std::string_view key) const
{
    return optional_of<std::string>(*this, key, [](const Node &n) { return n.as_string(); });
}
Result<std::optional<int64_t>> Table::optional_integer(std::string_view key) const
{
    return optional_of<int64_t>(*this, key, [](const Node &n) { return n.as_integer(); });
}
Result<int64_t> Table::integer_in(std::string_view key, int64_t dflt, int64_t lo, int64_t hi) const
{
    ALOPEX_TRY(v, optional_integer(key));
    if (!v)
        return dflt;
    if (*v < lo || *v > hi)
        return get(key)->failf("'{}' must be {}..{}, not {}", key, lo, hi, *v);
    return *v;
}
Result<std::optional<bool>> Table::optional_boolean(std::string_view key) const
{
    return optional_of<bool>(*this, key, [](const Node &n) { return n.as_boolean(); });
}
Result<std::optional<Table>> Table::optional_table(std::string_view key) const
{
    return optional_of<Table>(*this, key, [](const Node &n) { return n.as_table(); });
}
Result<std::optional<Array>> Table::optional_array(std::string_view key) const
{
    return optional_of<Array>(*this, key, [](const Node &n) { return n.as_array(); });
}

// ---- Array ------------------------------------------------------------------------

Position Array::position() const { return self_.position(); }
std::string Array::where() const { return self_.where(); }

size_t Array::size() const
{
    auto *a = self_.node_ ? tn(self_.node_)->as_array() : nullptr;
    return a ? a->size() : 0;
}

Node Array::at(size_t i) const
{
    auto *a = self_.node_ ? tn(self_.node_)->as_array() : nullptr;
    const toml::node *n = (a && i < a->size()) ? a->get(i) : nullptr;
    return Node(n, self_.src_, fmt::format("{}[{}]", self_.name(), i));
}

// ---- prescan -----------------------------------------------------------------------

namespace {

// Refuses, with their position, bytes that TOML never allows or that toml++ 3.3 cannot be
// trusted with, before toml++ sees them:
//  - raw control characters other than tab, LF and the CR of CRLF (TOML allows none
//    anywhere; a NUL after '[' tripped an assertion in toml++, found by fuzz-config);
//  - non-ASCII characters outside strings and comments (TOML allows them nowhere else);
//  - inside strings, the code points for which toml++ 3.3's generated
//    is_non_ascii_horizontal_whitespace() reaches __builtin_unreachable (undefined
//    behaviour, found by fuzz-config and fuzz-link-profile): U+00A1..U+0499,
//    U+2C5E..U+3057 but U+3000, and U+FB26..U+FEFE (computed from its bitmask: child
//    index (c - 0xA0) / 0x3FA of 0, 11..12 and 63 fall through to the unreachable
//    default). toml++ classifies characters of quoted keys and of multi-line
//    strings after a backslash, so these are refused in every string; a \\u escape in a
//    basic string says the same thing safely. Comments may hold any UTF-8.
bool toml_unsafe_codepoint(uint32_t cp)
{
    return (cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
           (cp >= 0xFB26 && cp <= 0xFEFE);
}

// The code point of the UTF-8 sequence at the start of s, or 0 when it is malformed
// (toml++ reports malformed UTF-8 itself).
uint32_t utf8_codepoint(std::string_view s)
{
    auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    size_t n = b(0) >= 0xF0 ? 4 : b(0) >= 0xE0 ? 3 : b(0) >= 0xC0 ? 2 : 0;
    if (n == 0 || s.size() < n)
        return 0;
    uint32_t cp = b(0) & (0x7F >> n);
    for (size_t i = 1; i < n; ++i) {
        if ((b(i) & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (b(i) & 0x3F);
    }
    return cp;
}

Result<void> prescan(std::string_view text, std::string_view file)
{
    enum class In { code, comment, basic, literal, ml_basic, ml_literal } in = In::code;
    uint32_t line = 1, col = 0;
    // In valid TOML a string starts only where a key or a value does: at the start of a
    // line or after one of these. A quote anywhere else is refused, so that this scan and
    // toml++ never disagree about what is inside a string.
    char last = '\n'; // last non-blank character seen in code
    auto at = [&](std::string_view what) {
        return fail(EINVAL, format_at(file, Position{line, col}, what));
    };
    for (size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        ++col;
        if (c == '\n') {
            if (in == In::comment || in == In::basic || in == In::literal)
                in = In::code; // single-line strings left open are toml++'s error to report
            if (in == In::code)
                last = '\n';
            ++line;
            col = 0;
            continue;
        }
        bool crlf = c == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
        if ((c < 0x20 && c != '\t' && !crlf) || c == 0x7f)
            return at(fmt::format("control character 0x{:02x} is not allowed", c));
        if ((c & 0xc0) == 0x80)
            continue; // UTF-8 continuation byte: counted with its lead byte
        auto rest = text.substr(i);
        if (c >= 0x80 && in != In::code && in != In::comment) {
            uint32_t cp = utf8_codepoint(rest);
            if (toml_unsafe_codepoint(cp))
                return at(fmt::format("character U+{:04X} is not supported in strings here "
                                      "(toml++ 3.3 mishandles it); write \\u{:04X} instead",
                                      cp, cp));
        }
        switch (in) {
        case In::code:
            if (c >= 0x80)
                return at("non-ASCII character outside a string or comment");
            if ((c == '"' || c == '\'') && !std::string_view("\n[{,=.").contains(last))
                return at("unexpected quote");
            if (c != ' ' && c != '\t')
                last = static_cast<char>(c);
            if (c == '#')
                in = In::comment;
            else if (rest.starts_with("\"\"\"")) {
                in = In::ml_basic;
                i += 2;
                col += 2;
            } else if (rest.starts_with("\'\'\'")) {
                in = In::ml_literal;
                i += 2;
                col += 2;
            } else if (c == '"')
                in = In::basic;
            else if (c == '\'')
                in = In::literal;
            break;
        case In::basic:
        case In::ml_basic:
            if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
                ++i; // an escaped quote or backslash, never a closing quote
                ++col;
            } else if (in == In::basic && c == '"')
                in = In::code;
            else if (in == In::ml_basic && rest.starts_with("\"\"\"")) {
                in = In::code;
                i += 2;
                col += 2;
            }
            break;
        case In::literal:
            if (c == '\'') {
                in = In::code;
                last = '"';
            }
            break;
        case In::ml_literal:
            if (rest.starts_with("\'\'\'")) {
                in = In::code;
                last = '"';
                i += 2;
                col += 2;
            }
            break;
        case In::comment:
            break;
        }
    }
    return {};
}

} // namespace

// ---- Document ---------------------------------------------------------------------

Result<Document> Document::parse(std::string_view text, std::string file)
{
    if (text.size() > max_file_size)
        return failf(EFBIG, "{}: file too large ({} bytes, at most {})", file, text.size(),
                     max_file_size);
    if (auto bad = prescan(text, file); !bad)
        return std::unexpected(bad.error());
    auto src = std::make_shared<Source>();
    src->file = std::move(file);
    std::optional<toml::parse_result> parsed;
    try {
        parsed.emplace(toml::parse(text, std::string_view(src->file)));
    } catch (const detail::TomlInvariant &) {
        return fail(EINVAL, format_at(src->file, Position{1, 1}, "malformed TOML"));
    }
    toml::parse_result &res = *parsed;
    if (!res) {
        const auto &e = res.error();
        Position p = pos_of(e.source());
        if (p.line == 0)
            p = Position{1, 1};
        return fail(EINVAL, format_at(src->file, p, e.description()));
    }
    src->table = std::move(res).table();
    Document d;
    d.src_ = std::move(src);
    return d;
}

Result<Document> Document::load(const std::filesystem::path &p)
{
    auto text = read_regular_file(p, max_file_size);
    if (!text)
        return std::unexpected(text.error());
    return parse(*text, p.string());
}

Table Document::root() const
{
    const toml::node *n = src_ ? static_cast<const toml::node *>(&src_->table) : nullptr;
    return Table(Node(n, src_, std::string()));
}

const std::string &Document::file() const
{
    static const std::string none;
    return src_ ? src_->file : none;
}

} // namespace alopex::config
