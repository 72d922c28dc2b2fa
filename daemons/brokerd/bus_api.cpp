// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstring>
#include <memory>

#include "alopex/bus.hpp"
#include "alopex/ipc/broker1.hpp"
#include "alopex/log.hpp"
#include "bus_api.hpp"

namespace alopex::broker {

namespace {
using CredsPtr = std::unique_ptr<sd_bus_creds, CDeleter<sd_bus_creds_unref>>;
namespace b1 = ipc::broker1;
} // namespace

Result<uid_t> caller_euid(sd_bus_message *m)
{
    sd_bus_creds *raw = nullptr;
    int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &raw);
    if (r < 0)
        return bus_fail(bus_error::NotAuthorized, "cannot get the caller's credentials: {}",
                        strerror(-r));
    CredsPtr creds(raw);
    if (sd_bus_creds_get_augmented_mask(creds.get()) & SD_BUS_CREDS_EUID)
        return bus_fail(bus_error::NotAuthorized,
                        "the caller's EUID is known only from /proc; refusing");
    uid_t uid = 0;
    r = sd_bus_creds_get_euid(creds.get(), &uid);
    if (r < 0)
        return bus_fail(bus_error::NotAuthorized, "the bus did not tell the caller's EUID: {}",
                        strerror(-r));
    return uid;
}

namespace {

// caller_euid(), journaling a failure like any other refused call.
Result<uid_t> who(sd_bus_message *m)
{
    auto uid = caller_euid(m);
    if (!uid) {
        const char *member = sd_bus_message_get_member(m);
        const char *sender = sd_bus_message_get_sender(m);
        log::notice({{"ALOPEX_OP", member ? member : "?"},
                     {"ALOPEX_SENDER", sender ? sender : "?"},
                     {"ALOPEX_RESULT", uid.error().bus_name}},
                    "{} from {}: {}", member ? member : "?", sender ? sender : "?",
                    uid.error().to_string());
    }
    return uid;
}

const sd_bus_vtable broker_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS(b1::method::Ping, SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                            bus::method<&BusApi::ping>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(b1::method::Version, SD_BUS_NO_ARGS, SD_BUS_RESULT("s", version),
                            bus::method<&BusApi::version>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(b1::method::OpenDevice, SD_BUS_ARGS("s", path),
                            SD_BUS_RESULT("h", fd), bus::method<&BusApi::open_device>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(b1::method::WriteManagedFile, SD_BUS_ARGS("s", id, "ay", contents),
                            SD_BUS_NO_RESULT, bus::method<&BusApi::write_managed_file>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(b1::method::WriteManagedBlock,
                            SD_BUS_ARGS("s", id, "s", tag, "s", contents), SD_BUS_NO_RESULT,
                            bus::method<&BusApi::write_managed_block>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(b1::method::OpenOvsdb, SD_BUS_NO_ARGS, SD_BUS_RESULT("h", fd),
                            bus::method<&BusApi::open_ovsdb>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(b1::method::Record, SD_BUS_ARGS("s", action, "s", details),
                            SD_BUS_NO_RESULT, bus::method<&BusApi::record>,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};
} // namespace

Result<void> BusApi::attach(sd_bus *bus)
{
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_add_object_vtable(bus, &slot, b1::path, b1::interface, broker_vtable, this);
    if (r < 0)
        return failf(-r, "cannot add the {} vtable: {}", b1::interface, strerror(-r));
    slot_.reset(slot);
    return {};
}

int BusApi::ping(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    broker_.ping(*uid);
    return sd_bus_reply_method_return(m, nullptr);
}

int BusApi::version(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    return bus::reply(m, broker_.version(*uid));
}

int BusApi::open_device(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    auto args = bus::read<std::string>(m);
    if (!args)
        return bus::set_error(ret, args.error());
    auto fd = broker_.open_device(*uid, std::get<0>(*args));
    if (!fd)
        return bus::set_error(ret, fd.error());
    return bus::reply(m, bus::UnixFd{fd->get()}); // sd-bus dups it; ours closes
}

int BusApi::write_managed_file(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    auto args = bus::read<std::string, std::vector<uint8_t>>(m);
    if (!args)
        return bus::set_error(ret, args.error());
    const auto &[id, bytes] = *args;
    std::string_view contents(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    if (auto r = broker_.write_file(*uid, id, contents); !r)
        return bus::set_error(ret, r.error());
    return sd_bus_reply_method_return(m, nullptr);
}

int BusApi::write_managed_block(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    auto args = bus::read<std::string, std::string, std::string>(m);
    if (!args)
        return bus::set_error(ret, args.error());
    const auto &[id, tag, contents] = *args;
    if (auto r = broker_.write_block(*uid, id, tag, contents); !r)
        return bus::set_error(ret, r.error());
    return sd_bus_reply_method_return(m, nullptr);
}

int BusApi::open_ovsdb(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    auto fd = broker_.open_ovsdb(*uid);
    if (!fd)
        return bus::set_error(ret, fd.error());
    return bus::reply(m, bus::UnixFd{fd->get()});
}

int BusApi::record(sd_bus_message *m, sd_bus_error *ret)
{
    auto uid = who(m);
    if (!uid)
        return bus::set_error(ret, uid.error());
    auto args = bus::read<std::string, std::string>(m);
    if (!args)
        return bus::set_error(ret, args.error());
    const auto &[action, details] = *args;
    if (auto r = broker_.record(*uid, action, details); !r)
        return bus::set_error(ret, r.error());
    return sd_bus_reply_method_return(m, nullptr);
}

} // namespace alopex::broker
