// SPDX-License-Identifier: GPL-2.0-or-later
#include "rpc.hpp"

#include <cerrno>

namespace alopex::ovs::ovsdb {

using json = nlohmann::json;

Result<Message> parse_message(std::string_view text)
{
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded())
        return fail(EBADMSG, "not JSON");
    if (!j.is_object())
        return fail(EBADMSG, "a JSON-RPC message must be an object");
    Message m;
    bool has_method = false, has_params = false, has_result = false, has_error = false, has_id = false;
    for (auto &[key, value] : j.items()) {
        if (key == "method") {
            if (!value.is_string())
                return fail(EBADMSG, "\"method\" is not a string");
            m.method = value.get<std::string>();
            has_method = true;
        } else if (key == "params") {
            if (!value.is_array())
                return fail(EBADMSG, "\"params\" is not an array");
            m.params = std::move(value);
            has_params = true;
        } else if (key == "result") {
            m.result = std::move(value);
            has_result = true;
        } else if (key == "error") {
            m.error = std::move(value);
            has_error = !m.error.is_null();
        } else if (key == "id") {
            m.id = std::move(value);
            has_id = true;
        } else {
            return failf(EBADMSG, "unknown member {}", json(key).dump(-1, ' ', true).substr(0, 40));
        }
    }
    if (has_method) {
        if (!has_params)
            return fail(EBADMSG, "a request without \"params\"");
        if (has_result || has_error)
            return fail(EBADMSG, "a request with \"result\" or \"error\"");
        m.kind = m.id.is_null() ? Message::Kind::Notification : Message::Kind::Request;
        return m;
    }
    if (!has_id || m.id.is_null())
        return fail(EBADMSG, "a reply without an id");
    if (has_error) {
        m.kind = Message::Kind::Error;
        return m;
    }
    if (!has_result || m.result.is_null())
        return fail(EBADMSG, "a reply without \"result\"");
    m.kind = Message::Kind::Reply;
    return m;
}

std::string Message::error_text() const
{
    return ovsdb::error_text(error);
}

std::string error_text(const json &error)
{
    if (error.is_string())
        return error.get<std::string>();
    if (error.is_object()) {
        std::string out;
        if (auto e = error.find("error"); e != error.end() && e->is_string())
            out = e->get<std::string>();
        if (auto d = error.find("details"); d != error.end() && d->is_string())
            out += (out.empty() ? "" : ": ") + d->get<std::string>();
        if (!out.empty())
            return out;
    }
    return error.dump(-1, ' ', true).substr(0, 200);
}

std::string request_text(std::string_view method, const json &params, const json &id)
{
    return json{{"method", method}, {"params", params}, {"id", id}}.dump();
}

std::string reply_text(const json &result, const json &id)
{
    return json{{"result", result}, {"error", nullptr}, {"id", id}}.dump();
}

} // namespace alopex::ovs::ovsdb
