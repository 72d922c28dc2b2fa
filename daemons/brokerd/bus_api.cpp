// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>
#include <memory>

#include "alopex/bus/audit.hpp"
#include "alopex/ipc/broker1.hpp"
#include "alopex/ipc/broker1_spec.hpp"
#include "alopex/log.hpp"
#include "bus_api.hpp"

namespace alopex::broker {

namespace {

namespace b1 = ipc::broker1::api;

// The broker names every error it returns; one it did not name is an internal error, as
// its journal entry (ALOPEX_RESULT) says.
const char *broker_error_name(const Error &e)
{
    return e.bus_name.empty() ? bus_error::Internal : e.bus_name.c_str();
}

// bus::sender_euid(), journaling a failure like any other refused call (the broker journals
// every call itself, so the Service does not log refusals).
Result<uid_t> who(bus::Call &c)
{
    auto uid = bus::sender_euid(c.message());
    if (!uid) {
        std::string sender(c.sender().empty() ? "?" : c.sender());
        log::notice({{"ALOPEX_OP", std::string(c.member())},
                     {"ALOPEX_SENDER", sender},
                     {"ALOPEX_RESULT", uid.error().bus_name}},
                    "{} from {}: {}", c.member(), sender, uid.error().to_string());
    }
    return uid;
}

// Answers with no values, or fails with the operation's error.
void answer(bus::Call &c, const Result<void> &r)
{
    if (c.ok(r))
        c.reply();
}

// Hands the fd over; sd-bus duplicates it into the reply and ours closes.
void answer(bus::Call &c, const Result<Fd> &fd)
{
    if (c.ok(fd))
        c.reply(bus::UnixFd{fd->get()});
}

const bus::Vtable<BusApi> &vtable()
{
    static const auto vt = bus::Vtable<BusApi>(b1::spec)
                               .method(b1::method::Ping, &BusApi::ping)
                               .method(b1::method::Version, &BusApi::version)
                               .method(b1::method::OpenDevice, &BusApi::open_device)
                               .method(b1::method::WriteManagedFile, &BusApi::write_managed_file)
                               .method(b1::method::WriteManagedBlock, &BusApi::write_managed_block)
                               .method(b1::method::OpenOvsdb, &BusApi::open_ovsdb)
                               .method(b1::method::Record, &BusApi::record);
    return vt;
}

} // namespace

Result<void> BusApi::attach(sd_bus *bus, sd_event *event)
{
    service_ = std::make_unique<bus::Service>(
        bus, event, bus::ServiceOptions{.error_mapper = broker_error_name, .log_refusals = false});
    ALOPEX_TRY(reg, service_->add(ipc::broker1::path, vtable(), *this));
    registration_ = std::move(reg);
    return {};
}

void BusApi::ping(bus::Call &c)
{
    auto uid = who(c);
    if (!c.ok(uid))
        return;
    broker_.ping(*uid);
    c.reply();
}

void BusApi::version(bus::Call &c)
{
    auto uid = who(c);
    if (c.ok(uid))
        c.reply(broker_.version(*uid));
}

void BusApi::open_device(bus::Call &c, std::string path)
{
    auto uid = who(c);
    if (c.ok(uid))
        answer(c, broker_.open_device(*uid, path));
}

void BusApi::write_managed_file(bus::Call &c, std::string id, std::vector<uint8_t> bytes)
{
    auto uid = who(c);
    if (!c.ok(uid))
        return;
    std::string_view contents(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    answer(c, broker_.write_file(*uid, id, contents));
}

void BusApi::write_managed_block(bus::Call &c, std::string id, std::string tag, std::string contents)
{
    auto uid = who(c);
    if (c.ok(uid))
        answer(c, broker_.write_block(*uid, id, tag, contents));
}

void BusApi::open_ovsdb(bus::Call &c)
{
    auto uid = who(c);
    if (c.ok(uid))
        answer(c, broker_.open_ovsdb(*uid));
}

void BusApi::record(bus::Call &c, std::string action, std::string details)
{
    auto uid = who(c);
    if (c.ok(uid))
        answer(c, broker_.record(*uid, action, details));
}

} // namespace alopex::broker
