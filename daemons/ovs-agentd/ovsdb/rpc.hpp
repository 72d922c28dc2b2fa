// SPDX-License-Identifier: GPL-2.0-or-later
// JSON-RPC 1.0 messages as OVSDB uses them (RFC 7047 §4), pure: one text from the
// stream (json_stream.hpp) in, a checked message out; requests and replies out as text.
// The checks are ovsdb-server's own (its jsonrpc_msg_is_valid): an object with only
// "method", "params", "result", "error" and "id"; a request or notification has a string
// method and an array of params, a notification a null id; a reply a non-null id and a
// result, an error reply a non-null "error". Anything else is an error: the caller drops
// the connection, as ovsdb-server does.
//
// Only .cpp files of the OVSDB client include this header (it brings nlohmann/json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "alopex/error.hpp"

namespace alopex::ovs::ovsdb {

struct Message {
    enum class Kind : uint8_t { Request, Notification, Reply, Error };
    Kind kind = Kind::Request;
    nlohmann::json id;       // null for a notification
    std::string method;      // Request, Notification
    nlohmann::json params;   // Request, Notification: an array
    nlohmann::json result;   // Reply
    nlohmann::json error;    // Error: a string or {"error": ..., "details": ...}
    std::string error_text() const;   // error_text(error)
};

// An OVSDB error's text (a reply's "error", or an <error> object in a transaction's
// results): a string as it is, {"error": E, "details": D} as "E: D".
std::string error_text(const nlohmann::json &error);

Result<Message> parse_message(std::string_view text);

std::string request_text(std::string_view method, const nlohmann::json &params, const nlohmann::json &id);
std::string reply_text(const nlohmann::json &result, const nlohmann::json &id);

} // namespace alopex::ovs::ovsdb
