// SPDX-License-Identifier: GPL-2.0-or-later
// Typed access to TOML configuration files. toml++ stays inside libcommon/config: this
// header exposes handles with typed getters that know their source position, so every
// refusal reads `file:line:col: message`.
//
//   auto doc = config::Document::load(path);            // syntax errors: file:line:col
//   auto root = doc->root();
//   if (auto r = root.require_known_keys({"ledger", "limits"}); !r) return r.error();
//   auto max = root.get_table("limits").and_then(...);
//
// Node/Table/Array handles share ownership of the parsed tree, so they stay valid after
// the Document that produced them is gone.
#pragma once

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::config {

struct Position {
    uint32_t line = 0;   // 1-based; 0 when unknown
    uint32_t column = 0; // 1-based; 0 when unknown
};

enum class Kind { none, table, array, string, integer, floating, boolean, date, time, date_time };
std::string_view to_string(Kind k);

class Table;
class Array;

// The parsed document and its file name, shared by all handles (defined in the .cpp).
struct Source;

// Any value in the document.
class Node {
public:
    Node() = default;
    Kind kind() const;
    Position position() const;
    // "file:line:col" of this node.
    std::string where() const;

    // Typed getters: a wrong type is `file:line:col: <what> must be a <type>, not a <kind>`
    // where <what> is the key (or array element) the node was reached by.
    Result<std::string> as_string() const;
    Result<int64_t> as_integer() const;
    Result<bool> as_boolean() const;
    Result<double> as_floating() const; // integers are accepted too
    Result<Table> as_table() const;
    Result<Array> as_array() const;

    // How this node was reached, e.g. "limits.max_contents" or "device[2].callers[0]".
    const std::string &name() const { return name_; }

    // An error positioned at this node: "file:line:col: message".
    Error error(std::string message) const;
    template <typename... A> std::unexpected<Error> failf(fmt::format_string<A...> f, A &&...a) const
    {
        return std::unexpected<Error>(error(fmt::format(f, std::forward<A>(a)...)));
    }

private:
    friend class Table;
    friend class Array;
    friend class Document;
    Node(const void *n, std::shared_ptr<const Source> src, std::string name)
        : node_(n), src_(std::move(src)), name_(std::move(name)) {}
    const void *node_ = nullptr; // const toml::node *
    std::shared_ptr<const Source> src_;
    std::string name_;
};

class Table {
public:
    Table() = default;
    Position position() const;
    std::string where() const;
    const std::string &name() const { return self_.name(); }
    size_t size() const;
    bool contains(std::string_view key) const;

    // Refuses the first key (in document order) not in `known`:
    // "file:line:col: unknown key 'x' in [table]".
    Result<void> require_known_keys(std::initializer_list<std::string_view> known) const;

    std::optional<Node> get(std::string_view key) const;
    // Missing key: "file:line:col: missing required key 'x' in [table]" (the table's position).
    Result<Node> require(std::string_view key) const;

    // Typed getters. required_*: missing is an error; optional_*: missing is nullopt;
    // present with the wrong type is always an error.
    Result<std::string> required_string(std::string_view key) const;
    Result<std::optional<std::string>> optional_string(std::string_view key) const;
    Result<int64_t> required_integer(std::string_view key) const;
    Result<std::optional<int64_t>> optional_integer(std::string_view key) const;
    // An optional integer within lo..hi ("'key' must be lo..hi, not v"); `dflt` when missing.
    Result<int64_t> integer_in(std::string_view key, int64_t dflt, int64_t lo, int64_t hi) const;
    Result<std::optional<bool>> optional_boolean(std::string_view key) const;
    Result<std::optional<Table>> optional_table(std::string_view key) const;
    Result<std::optional<Array>> optional_array(std::string_view key) const;

    // All entries in document order.
    std::vector<std::pair<std::string, Node>> entries() const;

    Error error(std::string message) const { return self_.error(std::move(message)); }

private:
    friend class Node;
    friend class Document;
    explicit Table(Node self) : self_(std::move(self)) {}
    Node self_;
};

class Array {
public:
    Array() = default;
    Position position() const;
    std::string where() const;
    const std::string &name() const { return self_.name(); }
    size_t size() const;
    Node at(size_t i) const; // i < size()
    Error error(std::string message) const { return self_.error(std::move(message)); }

private:
    friend class Node;
    explicit Array(Node self) : self_(std::move(self)) {}
    Node self_;
};

class Document {
public:
    // Parses text; `file` names it in messages. Syntax errors: "file:line:col: message".
    static Result<Document> parse(std::string_view text, std::string file);
    // Reads and parses a file (capped at 16 MiB). A missing file: "file: cannot read: ...".
    static Result<Document> load(const std::filesystem::path &p);

    Table root() const;
    const std::string &file() const;

private:
    std::shared_ptr<const Source> src_; // owns the parsed tree; handles share it
};

// A daemon's settings, `from` turning a Document into a Result<T>: from text (`file`
// names it in messages), or from a file whose absence means T{} (every default).
template <typename T, typename From> Result<T> parse_with(std::string_view text, std::string file, From &&from)
{
    auto doc = Document::parse(text, std::move(file));
    if (!doc)
        return std::unexpected(doc.error());
    return from(*doc);
}
template <typename T, typename From> Result<T> load_or_defaults(const std::filesystem::path &p, From &&from)
{
    auto doc = Document::load(p);
    if (!doc) {
        if (doc.error().code == ENOENT)
            return T{};
        return std::unexpected(doc.error());
    }
    return from(*doc);
}

// Formats "file:line:col: message" (or "file: message" without a position).
std::string format_at(std::string_view file, Position pos, std::string_view message);

// Holds the last configuration that loaded successfully. A reload that fails leaves the
// previous value in place and returns the error; the caller logs it.
template <typename T> class LastGood {
public:
    // Replaces the held value when `loaded` holds one; otherwise keeps it.
    Result<void> update(Result<T> loaded)
    {
        if (!loaded)
            return std::unexpected<Error>(std::move(loaded.error()));
        current_ = std::make_shared<const T>(std::move(*loaded));
        ++generation_;
        return {};
    }
    template <typename Loader> Result<void> reload(Loader &&load) { return update(load()); }

    bool has_value() const { return static_cast<bool>(current_); }
    const T &operator*() const { return *current_; }
    const T *operator->() const { return current_.get(); }
    // A snapshot that stays valid across later reloads.
    std::shared_ptr<const T> snapshot() const { return current_; }
    // Counts successful updates.
    uint64_t generation() const { return generation_; }

private:
    std::shared_ptr<const T> current_;
    uint64_t generation_ = 0;
};

} // namespace alopex::config
