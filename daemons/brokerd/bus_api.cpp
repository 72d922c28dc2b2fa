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

// Runs `then(reply, uid)` once the bus has told who called (bus::sender_euid_async: the
// broker never waits on the bus daemon), journaling a failure like any other refused call
// (the broker journals every call itself, so the Service does not log refusals). One
// connection's questions are answered in order, so its calls keep their order.
template <typename F> void as_caller(bus::Call &c, F &&then)
{
    std::string op(c.member()), sender(c.sender().empty() ? "?" : c.sender());
    sd_bus_message *m = c.message();
    bus::sender_euid_async(m, [reply = std::make_shared<bus::PendingReply>(c.defer()), op = std::move(op),
                               sender = std::move(sender), then = std::forward<F>(then)](Result<uid_t> uid) mutable {
        if (!uid) {
            log::notice({{"ALOPEX_OP", op}, {"ALOPEX_SENDER", sender}, {"ALOPEX_RESULT", uid.error().bus_name}},
                        "{} from {}: {}", op, sender, uid.error().to_string());
            reply->fail(uid.error());
            return;
        }
        then(*reply, *uid);
    });
}

// Answers with no values, or fails with the operation's error.
void answer(bus::PendingReply &p, const Result<void> &r)
{
    r ? p.reply() : p.fail(r.error());
}

// Hands the fd over; sd-bus duplicates it into the reply and ours closes.
void answer(bus::PendingReply &p, const Result<Fd> &fd)
{
    fd ? p.reply(bus::UnixFd{fd->get()}) : p.fail(fd.error());
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
                               .method(b1::method::OpenOvsBridge, &BusApi::open_ovs_bridge)
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
    as_caller(c, [this](bus::PendingReply &p, uid_t uid) {
        broker_.ping(uid);
        p.reply();
    });
}

void BusApi::version(bus::Call &c)
{
    as_caller(c, [this](bus::PendingReply &p, uid_t uid) { p.reply(broker_.version(uid)); });
}

void BusApi::open_device(bus::Call &c, std::string path)
{
    as_caller(c, [this, path = std::move(path)](bus::PendingReply &p, uid_t uid) {
        answer(p, broker_.open_device(uid, path));
    });
}

void BusApi::write_managed_file(bus::Call &c, std::string id, std::vector<uint8_t> bytes)
{
    as_caller(c, [this, id = std::move(id), bytes = std::move(bytes)](bus::PendingReply &p, uid_t uid) {
        std::string_view contents(reinterpret_cast<const char *>(bytes.data()), bytes.size());
        answer(p, broker_.write_file(uid, id, contents));
    });
}

void BusApi::write_managed_block(bus::Call &c, std::string id, std::string tag, std::string contents)
{
    as_caller(c, [this, id = std::move(id), tag = std::move(tag),
                  contents = std::move(contents)](bus::PendingReply &p, uid_t uid) {
        answer(p, broker_.write_block(uid, id, tag, contents));
    });
}

void BusApi::open_ovsdb(bus::Call &c)
{
    as_caller(c, [this](bus::PendingReply &p, uid_t uid) { answer(p, broker_.open_ovsdb(uid)); });
}

void BusApi::open_ovs_bridge(bus::Call &c, std::string bridge)
{
    as_caller(c, [this, bridge = std::move(bridge)](bus::PendingReply &p, uid_t uid) {
        answer(p, broker_.open_ovs_bridge(uid, bridge));
    });
}

void BusApi::record(bus::Call &c, std::string action, std::string details)
{
    as_caller(c, [this, action = std::move(action), details = std::move(details)](bus::PendingReply &p, uid_t uid) {
        answer(p, broker_.record(uid, action, details));
    });
}

} // namespace alopex::broker
