// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker1_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "alopex/ipc/broker1.hpp"
#include "alopex/ipc/broker1_spec.hpp"
#include "alopex/log.hpp"

namespace alopex::ipc::broker1 {

namespace b1 = ipc::broker1::api;

Result<Fd> adopt_fd(int borrowed, unsigned mode, const char *what)
{
    Fd fd(fcntl(borrowed, F_DUPFD_CLOEXEC, 3));
    if (!fd)
        return failf(errno, "cannot take the {} the broker sent: {}", what, strerror(errno));
    struct stat st{};
    if (fstat(fd.get(), &st) < 0)
        return failf(errno, "cannot stat the {} the broker sent: {}", what, strerror(errno));
    if ((st.st_mode & S_IFMT) != mode)
        return bus_fail(bus_error::WrongFileType, "the broker sent something else than a {}", what);
    return fd;
}

namespace {
template <typename T> void forward_error(const Result<T> &r, const std::function<void(Result<>)> &done)
{
    done(r ? Result<>{} : Result<>(std::unexpected(r.error())));
}
} // namespace

void Client::open_device(const std::string &path, std::function<void(Result<Fd>)> done)
{
    calls_.call<bus::UnixFd>(service, broker1::path, b1::spec, b1::method::OpenDevice,
                             [done = std::move(done)](Result<std::tuple<bus::UnixFd>> r) {
                                 if (!r)
                                     return done(std::unexpected(r.error()));
                                 done(adopt_fd(std::get<0>(*r).fd, S_IFCHR, "device"));
                             },
                             path);
}

void Client::open_ovsdb(std::function<void(Result<Fd>)> done)
{
    calls_.call<bus::UnixFd>(service, broker1::path, b1::spec, b1::method::OpenOvsdb,
                             [done = std::move(done)](Result<std::tuple<bus::UnixFd>> r) {
                                 if (!r)
                                     return done(std::unexpected(r.error()));
                                 done(adopt_fd(std::get<0>(*r).fd, S_IFSOCK, "socket"));
                             });
}

void Client::open_ovs_bridge(const std::string &bridge, std::function<void(Result<Fd>)> done)
{
    calls_.call<bus::UnixFd>(service, broker1::path, b1::spec, b1::method::OpenOvsBridge,
                             [done = std::move(done)](Result<std::tuple<bus::UnixFd>> r) {
                                 if (!r)
                                     return done(std::unexpected(r.error()));
                                 done(adopt_fd(std::get<0>(*r).fd, S_IFSOCK, "socket"));
                             },
                             bridge);
}

void Client::write_managed_file(const std::string &id, const std::string &contents,
                                std::function<void(Result<>)> done)
{
    std::vector<uint8_t> bytes(contents.begin(), contents.end());
    calls_.call<>(service, broker1::path, b1::spec, b1::method::WriteManagedFile,
                  [done = std::move(done)](Result<std::tuple<>> r) { forward_error(r, done); }, id, bytes);
}

void Client::write_managed_block(const std::string &id, const std::string &tag, const std::string &contents,
                                 std::function<void(Result<>)> done)
{
    calls_.call<>(service, broker1::path, b1::spec, b1::method::WriteManagedBlock,
                  [done = std::move(done)](Result<std::tuple<>> r) { forward_error(r, done); }, id, tag,
                  contents);
}

void Client::record(const std::string &action, const std::string &details, std::function<void(Result<>)> done)
{
    calls_.call<>(service, broker1::path, b1::spec, b1::method::Record,
                  [done = std::move(done)](Result<std::tuple<>> r) { forward_error(r, done); }, action, details);
}

void Client::version(std::function<void(Result<std::string>)> done)
{
    calls_.call<std::string>(service, broker1::path, b1::spec, b1::method::Version,
                             [done = std::move(done)](Result<std::tuple<std::string>> r) {
                                 if (!r)
                                     return done(std::unexpected(r.error()));
                                 done(std::get<0>(*r));
                             });
}

// ---- Recorder --------------------------------------------------------------------------

Recorder::Recorder(sd_bus *bus, sd_event *event, RecorderOptions options)
    : bus_(bus), event_(event), opt_(options), client_(bus)
{
}

Recorder::~Recorder() = default;

Result<std::unique_ptr<Recorder>> Recorder::create(sd_bus *bus, sd_event *event, RecorderOptions options)
{
    std::unique_ptr<Recorder> r(new Recorder(bus, event, options));
    ALOPEX_TRY_VOID(r->start());
    return r;
}

Result<> Recorder::start()
{
    std::string match = fmt::format("type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                    "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{}'",
                                    service);
    sd_bus_slot *slot = nullptr;
    int r = sd_bus_add_match_async(bus_, &slot, match.c_str(), &Recorder::on_owner, nullptr, this);
    if (r < 0)
        return failf(-r, "cannot follow {}: {}", service, strerror(-r));
    owner_slot_.reset(slot);
    sd_event_source *s = nullptr;
    r = sd_event_add_time(event_, &s, CLOCK_MONOTONIC, UINT64_MAX, 10'000, &Recorder::on_timer, this);
    if (r < 0)
        return failf(-r, "cannot add the ledger retry timer: {}", strerror(-r));
    timer_.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    return {};
}

void Recorder::record(std::string action, std::string details)
{
    if (queue_.size() >= opt_.max_queue) {
        ++dropped_;
        ++dropped_total_;
        if (dropped_ == 1)
            log::warning("ledger: the broker does not take records; dropping them (counted, recorded later)");
        return;
    }
    queue_.push_back(Item{std::move(action), std::move(details)});
    pump();
}

namespace {
// The broker refused this record for what it is: retrying cannot help.
bool permanent(const Error &e)
{
    return e.bus_name == bus_error::InvalidArgument || e.bus_name == bus_error::NotAuthorized ||
           e.bus_name == bus_error::TooLarge || e.bus_name == bus_error::NoSuchId;
}
} // namespace

void Recorder::pump()
{
    if (in_flight_ || waiting_ || (queue_.empty() && dropped_ == 0))
        return;
    bool notice = dropped_ > 0;
    Item item = notice ? Item{"ledger.dropped", fmt::format("{{\"records\":{}}}", dropped_)} : queue_.front();
    in_flight_ = true;
    client_.record(item.action, item.details, [this, notice](Result<> r) {
        in_flight_ = false;
        if (r || permanent(r.error())) {
            if (!r) {
                ++refused_;
                log::warning("ledger: the broker refused a record: {}", r.error().to_string());
            } else {
                ++sent_;
            }
            if (notice)
                dropped_ = 0;
            else
                queue_.pop_front();
            backoff_ = 0;
            if (on_progress)
                on_progress();
            pump();
            return;
        }
        log::debug("ledger: Record failed ({}); retrying", r.error().to_string());
        retry_later();
    });
}

void Recorder::retry_later()
{
    backoff_ = backoff_ ? std::min(backoff_ * 2, opt_.retry_max_usec) : opt_.retry_min_usec;
    waiting_ = true;
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(timer_.get(), now + backoff_);
    sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT);
}

int Recorder::on_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Recorder *>(userdata);
    try {
        self->waiting_ = false;
        self->pump();
    } catch (...) {
    }
    return 0;
}

int Recorder::on_owner(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept
{
    auto *self = static_cast<Recorder *>(userdata);
    try {
        const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !new_owner || !*new_owner)
            return 0;
        // The broker is back: go now instead of waiting out the backoff.
        self->backoff_ = 0;
        if (self->waiting_) {
            sd_event_source_set_enabled(self->timer_.get(), SD_EVENT_OFF);
            self->waiting_ = false;
        }
        self->pump();
    } catch (...) {
    }
    return 0;
}

} // namespace alopex::ipc::broker1
