// SPDX-License-Identifier: GPL-2.0-or-later
// org.alopex.Slirp1.Line of one instance (ipc/org.alopex.Slirp1.xml): the line, the link,
// its counters and connections as properties and methods; CloseConnection and Reload
// behind polkit (org.alopex.slirp.configure) and into the audit ledger.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "alopex/bus/codec.hpp"
#include "alopex/bus/object.hpp"
#include "alopex/error.hpp"
#include "alopex/ipc/slirp1.hpp"
#include "session.hpp"
#include "settings.hpp"

namespace alopex::ipc::broker1 {
class Recorder;
}

namespace alopex::slirp {

class SerialLine;


class LineBus {
public:
    struct Options {
        std::string instance, device, config_file;
        Settings settings;   // as loaded
    };
    static Result<std::unique_ptr<LineBus>> create(sd_event *event, sd_bus *bus, Session &session,
                                                   const SerialLine *serial, Options options);
    ~LineBus();
    LineBus(const LineBus &) = delete;
    LineBus &operator=(const LineBus &) = delete;

    // Takes the bus name (after everything is registered).
    Result<> request_name();
    const ipc::slirp1::Instance &names() const noexcept { return names_; }
    // Reload from SIGHUP: as the method, without a caller.
    Result<std::vector<std::string>> reload(std::string_view why);

    // Properties, for the vtable.
    std::string phase() const;
    std::string peer_address() const;
    std::string local_address() const;
    std::vector<std::string> dns_servers() const;
    std::map<std::string, std::string> options() const;
    bool line_open() const;

private:
    LineBus(sd_event *event, Session &session, const SerialLine *serial, Options options)
        : event_(event), session_(session), serial_(serial), opt_(std::move(options)) {}
    Result<> attach(sd_bus *bus);
    void bus_version(bus::Call &c);
    void list_connections(bus::Call &c);
    void close_connection(bus::Call &c, uint64_t id);
    void bus_reload(bus::Call &c);
    void capture(bus::Call &c, bus::UnixFd fd, uint32_t seconds);
    void state_changed();
    friend const bus::Vtable<LineBus> &line_vtable();

    sd_event *event_;
    Session &session_;
    const SerialLine *serial_;
    Options opt_;
    ipc::slirp1::Instance names_;
    std::unique_ptr<bus::Service> service_;
    bus::Registration registration_;
    std::unique_ptr<ipc::broker1::Recorder> recorder_;
};

} // namespace alopex::slirp
