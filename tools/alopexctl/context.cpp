// SPDX-License-Identifier: GPL-2.0-or-later
#include "context.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace alopexctl {

using alopex::cli::printable;

alopex::Result<sd_bus *> Context::bus()
{
    if (borrowed_)
        return borrowed_;
    if (!owned_) {
        if (!open_)
            return alopex::failf(ENOTCONN, "no bus");
        ALOPEX_TRY(b, open_());
        owned_ = std::move(b);
    }
    return owned_.get();
}

int Context::print(const alopex::cli::Document &d)
{
    auto text = alopex::cli::render(d, format);
    if (!text)
        return usage_error(text.error());
    fmt::print("{}", *text);
    return exit_ok;
}

int Context::fail(const alopex::Error &e)
{
    const std::string_view name = e.bus_name;
    if (name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
        fmt::print(stderr, "alopexctl: not running: {}\n", printable(e.message));
        return exit_not_running;
    }
    if (!name.empty())
        fmt::print(stderr, "alopexctl: {}: {}\n", name, printable(e.message));
    else
        fmt::print(stderr, "alopexctl: {}\n", printable(e.message));
    return exit_failure;
}

int Context::usage_error(const alopex::Error &e)
{
    fmt::print(stderr, "alopexctl: {}\nTry 'alopexctl --help'.\n", printable(e.message));
    return exit_usage;
}

alopex::cli::Document pending_restart_document(const std::vector<std::string> &pending)
{
    alopex::cli::Section s({"PENDING RESTART"});
    s.json_key = "pending_restart";
    for (const auto &x : pending)
        s.add({x}, x);
    alopex::cli::Document doc;
    doc.sections.push_back(std::move(s));
    return doc;
}

} // namespace alopexctl
