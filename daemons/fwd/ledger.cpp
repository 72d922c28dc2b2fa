// SPDX-License-Identifier: GPL-2.0-or-later
#include "ledger.hpp"

#include <nlohmann/json.hpp>

#include "alopex/bus/spec.hpp"
#include "alopex/log.hpp"
#include "broker1_client.hpp"

namespace alopex::fwd {

namespace {

// org.freedesktop.DBus.GetConnectionUnixUser(s name) -> u uid: the bus daemon's answer
// from the connection's credentials.
constexpr bus::MethodSpec get_unix_user{"GetConnectionUnixUser", "s", "name\0", "u", "uid\0",
                                        "name\0uid\0"};
constexpr const bus::MethodSpec *dbus_methods[] = {&get_unix_user};
constexpr bus::InterfaceSpec dbus_spec{"org.freedesktop.DBus", dbus_methods, {}, {}};

nlohmann::ordered_json to_json(const LedgerValue &v)
{
    return std::visit([](const auto &x) { return nlohmann::ordered_json(x); }, v);
}

} // namespace

std::string ledger_details(const LedgerFields &fields)
{
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto &[k, v] : fields)
        j[k] = to_json(v);
    // Invalid UTF-8 (a comment is checked, but be safe) is replaced, never refused here.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<std::unique_ptr<Ledger>> Ledger::create(sd_bus *bus, sd_event *event)
{
    std::unique_ptr<Ledger> l(new Ledger(bus));
    ALOPEX_TRY(rec, ipc::broker1::Recorder::create(bus, event));
    l->recorder_ = std::move(rec);
    return l;
}

Ledger::Ledger(sd_bus *bus) : calls_(bus, 5'000'000) {}

Ledger::~Ledger() = default;

void Ledger::action(std::string action, LedgerFields fields)
{
    recorder_->record(std::move(action), ledger_details(fields));
}

void Ledger::caller_action(std::string_view sender, std::string action, LedgerFields fields)
{
    std::string who(sender);
    calls_.call<uint32_t>(
        "org.freedesktop.DBus", "/org/freedesktop/DBus", dbus_spec, get_unix_user,
        [this, who, action = std::move(action), fields = std::move(fields)](Result<std::tuple<uint32_t>> r) mutable {
            nlohmann::ordered_json j = nlohmann::ordered_json::object();
            j["sender"] = who;
            if (r)
                j["uid"] = std::get<0>(*r);
            else
                j["uid"] = nullptr;
            for (const auto &[k, v] : fields)
                j[k] = to_json(v);
            recorder_->record(std::move(action),
                              j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        },
        who);
}

} // namespace alopex::fwd
