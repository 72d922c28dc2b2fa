// SPDX-License-Identifier: GPL-2.0-or-later
#include "slirp1_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "alopex/bus/blocking.hpp"
#include "alopex/ipc/slirp1.hpp"
#include "alopex/ipc/slirp1_spec.hpp"

namespace alopex::ipc::slirp1 {

const bus::PropertyReader<LineInfo> &line_reader()
{
    namespace p = line::property;
    static const auto reader = bus::PropertyReader<LineInfo>(line::spec)
                                   .field(p::Instance, &LineInfo::instance)
                                   .field(p::Device, &LineInfo::device)
                                   .field(p::Mode, &LineInfo::mode)
                                   .field(p::DnsServers, &LineInfo::dns_servers)
                                   .field(p::Listeners, &LineInfo::listeners)
                                   .field(p::LineOpen, &LineInfo::line_open)
                                   .field(p::Phase, &LineInfo::phase)
                                   .field(p::LocalAddress, &LineInfo::local_address)
                                   .field(p::PeerAddress, &LineInfo::peer_address)
                                   .field(p::Options, &LineInfo::options)
                                   .field(p::EchoRttUsec, &LineInfo::echo_rtt_usec)
                                   .field(p::Counters, &LineInfo::counters)
                                   .field(p::Connections, &LineInfo::connections)
                                   .field(p::PortMaps, &LineInfo::port_maps)
                                   .field(p::Backends, &LineInfo::backends);
    return reader;
}

Result<std::vector<Instance>> list_instances(sd_bus *bus)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *raw = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "ListNames", &e, &raw, "");
    MessagePtr reply(raw);
    if (r < 0) {
        std::string why = e.message ? e.message : strerror(-r);
        sd_bus_error_free(&e);
        return failf(-r, "ListNames: {}", why);
    }
    std::vector<std::string> names;
    ALOPEX_TRY_VOID(bus::read_value(reply.get(), names, "names"));
    std::vector<Instance> out;
    std::string prefix = std::string(service_prefix) + ".";
    for (const auto &n : names)
        if (n.starts_with(prefix) && n.size() > prefix.size())
            out.push_back({n, std::string(path_prefix) + "/" + n.substr(prefix.size())});
    std::sort(out.begin(), out.end(), [](const Instance &a, const Instance &b) { return a.service < b.service; });
    return out;
}

Result<LineInfo> read_line(sd_bus *bus, const Instance &i)
{
    ALOPEX_TRY(info, bus::blocking::get_all(bus, i.service.c_str(), i.path.c_str(), line_reader()));
    info.where = i;
    return info;
}

Result<std::vector<ConnectionInfo>> list_connections(sd_bus *bus, const Instance &i)
{
    using Row = std::tuple<uint64_t, std::string, uint16_t, std::string, uint16_t, std::string, std::string, uint64_t,
                           uint64_t, uint64_t, uint64_t>;
    ALOPEX_TRY(r, bus::blocking::call<std::vector<Row>>(bus, i.service.c_str(), i.path.c_str(), line::spec,
                                                        line::method::ListConnections));
    std::vector<ConnectionInfo> out;
    for (auto &[id, peer, pport, dst, dport, target, state, in, outb, idle, queued] : std::get<0>(r))
        out.push_back({id, peer, pport, dst, dport, target, state, in, outb, idle, queued});
    return out;
}

Result<> close_connection(sd_bus *bus, const Instance &i, uint64_t id)
{
    ALOPEX_TRY_VOID(bus::blocking::call<>(bus, i.service.c_str(), i.path.c_str(), line::spec,
                                          line::method::CloseConnection, id));
    return {};
}

Result<> capture(sd_bus *bus, const Instance &i, int fd, uint32_t seconds)
{
    ALOPEX_TRY_VOID(bus::blocking::call<>(bus, i.service.c_str(), i.path.c_str(), line::spec, line::method::Capture,
                                          bus::UnixFd{fd}, seconds));
    return {};
}

Result<std::vector<std::string>> reload(sd_bus *bus, const Instance &i)
{
    ALOPEX_TRY(r, bus::blocking::call<std::vector<std::string>>(bus, i.service.c_str(), i.path.c_str(), line::spec,
                                                                line::method::Reload));
    return std::get<0>(r);
}

} // namespace alopex::ipc::slirp1
