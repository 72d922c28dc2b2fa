// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_stream.hpp"

#include <cerrno>

namespace alopex::ovs::ovsdb {

void JsonSplitter::reset()
{
    text_.clear();
    depth_ = 0;
    in_string_ = escaped_ = failed_ = false;
}

Result<> JsonSplitter::fail_stream(std::string what)
{
    failed_ = true;
    text_.clear();
    return fail(EBADMSG, std::move(what));
}

Result<> JsonSplitter::feed(std::span<const char> bytes, std::vector<std::string> &out)
{
    if (failed_)
        return fail(EBADMSG, "the stream failed before");
    for (size_t i = 0; i < bytes.size(); ++i) {
        char c = bytes[i];
        if (depth_ == 0) {   // between messages
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                continue;
            if (c != '{')
                return fail_stream(fmt::format("byte 0x{:02x} between messages (a JSON-RPC message is an object)",
                                               static_cast<unsigned char>(c)));
        }
        text_.push_back(c);
        if (text_.size() > max_size_)
            return fail_stream(fmt::format("a message longer than {} bytes", max_size_));
        if (in_string_) {
            if (escaped_)
                escaped_ = false;
            else if (c == '\\')
                escaped_ = true;
            else if (c == '"')
                in_string_ = false;
            continue;
        }
        switch (c) {
        case '"': in_string_ = true; break;
        case '{':
        case '[':
            if (++depth_ > max_depth_)
                return fail_stream(fmt::format("nesting deeper than {}", max_depth_));
            break;
        case '}':
        case ']':
            if (--depth_ == 0) {
                out.push_back(std::move(text_));
                text_.clear();
            }
            break;
        default: break;
        }
    }
    return {};
}

} // namespace alopex::ovs::ovsdb
