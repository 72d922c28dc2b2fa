// SPDX-License-Identifier: GPL-2.0-or-later
#include "ovsdb_connection.hpp"

#include <cerrno>
#include <cstring>

#include "alopex/log.hpp"

namespace alopex::ovs {

Result<std::unique_ptr<OvsdbConnection>> OvsdbConnection::create(sd_event *event, Connect connect,
                                                                 ovsdb::SessionConfig config,
                                                                 ovsdb::Session::Callbacks callbacks, Options options)
{
    std::unique_ptr<OvsdbConnection> c(new OvsdbConnection(event));
    OvsdbConnection *self = c.get();
    c->user_ = std::move(callbacks);
    ovsdb::Session::Callbacks cb;
    cb.send = [self](std::string_view bytes) { self->stream_->send(bytes); };
    cb.synced = [self] {
        self->stream_->reset_backoff();
        if (self->user_.synced)
            self->user_.synced();
    };
    cb.changed = [self](const std::vector<ovsdb::RowChange> &ch) {
        if (self->user_.changed)
            self->user_.changed(ch);
    };
    cb.lost = [self](const std::string &why) { self->stream_->fail(why); };   // closed from the loop
    c->session_ = std::make_unique<ovsdb::Session>(std::move(config), std::move(cb));
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, UINT64_MAX, 10'000, on_timer, self); r < 0)
        return failf(-r, "OVSDB keepalive timer: {}", strerror(-r));
    c->timer_.reset(s);
    StreamConnection::Callbacks sc;
    sc.up = [self] {
        self->session_->connected(self->now());
        self->rearm();
    };
    sc.input = [self](std::span<const char> bytes) {
        self->session_->input(bytes, self->now());
        self->rearm();
    };
    sc.down = [self](const std::string &why) {
        self->session_->disconnected(why);
        self->rearm();
        if (self->user_.lost)
            self->user_.lost(why);
    };
    ALOPEX_TRY(stream, StreamConnection::create(event, "ovsdb-server", std::move(connect), std::move(sc), options));
    c->stream_ = std::move(stream);
    return c;
}

OvsdbConnection::~OvsdbConnection() = default;

uint64_t OvsdbConnection::now() const
{
    uint64_t n = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &n);
    return n;
}

void OvsdbConnection::rearm()
{
    uint64_t at = stream_ && stream_->up() ? session_->next_deadline() : UINT64_MAX;
    sd_event_source_set_time(timer_.get(), at);
    sd_event_source_set_enabled(timer_.get(), at == UINT64_MAX ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
}

int OvsdbConnection::on_timer(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *c = static_cast<OvsdbConnection *>(userdata);
    return log::contained("OVSDB keepalive", [c] {
        c->session_->advance(c->now());
        c->rearm();
    });
}

} // namespace alopex::ovs
