// SPDX-License-Identifier: GPL-2.0-or-later
// The OVSDB wire's framing (RFC 7047 §4): JSON-RPC messages written back to back on a
// byte stream, with no delimiter, one read holding several or part of one. JsonSplitter
// finds where each top-level JSON text ends (brackets counted outside strings, escapes
// honoured) and hands out whole texts; it does not parse them. Pure.
//
// Nothing from the peer is trusted: a byte between messages that is neither whitespace
// nor '{' (every JSON-RPC message is an object), a message longer than `max_size`, or
// nesting deeper than `max_depth` is an error, and the splitter stays failed: the
// stream cannot be resynchronised, the connection has to go (as ovsdb-server itself
// drops a peer that sends bad JSON).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::ovs::ovsdb {

class JsonSplitter {
public:
    static constexpr size_t default_max_size = 64u << 20;   // a full snapshot of thousands of ports fits
    static constexpr unsigned default_max_depth = 64;        // OVSDB's deepest is ~8 ([map [[k, [uuid ..]]]])

    explicit JsonSplitter(size_t max_size = default_max_size, unsigned max_depth = default_max_depth)
        : max_size_(max_size), max_depth_(max_depth) {}

    // Appends the complete texts in `bytes` (with what was buffered before) to `out`; a
    // text that is not complete yet stays buffered.
    Result<> feed(std::span<const char> bytes, std::vector<std::string> &out);
    // Bytes of an incomplete text held.
    size_t buffered() const noexcept { return text_.size(); }
    bool failed() const noexcept { return failed_; }
    // A new stream (after a reconnect).
    void reset();

private:
    Result<> fail_stream(std::string what);

    size_t max_size_;
    unsigned max_depth_;
    std::string text_;
    unsigned depth_ = 0;
    bool in_string_ = false, escaped_ = false, failed_ = false;
};

} // namespace alopex::ovs::ovsdb
