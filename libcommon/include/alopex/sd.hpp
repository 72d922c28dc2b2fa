// SPDX-License-Identifier: GPL-2.0-or-later
// Owners for sd-bus and sd-event handles. Deleters accept null.
#pragma once

#include <memory>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace alopex {

template <auto F> struct CDeleter {
    template <typename T> void operator()(T *p) const noexcept
    {
        if (p)
            F(p);
    }
};

using BusPtr = std::unique_ptr<sd_bus, CDeleter<sd_bus_flush_close_unref>>;
using MessagePtr = std::unique_ptr<sd_bus_message, CDeleter<sd_bus_message_unref>>;
using SlotPtr = std::unique_ptr<sd_bus_slot, CDeleter<sd_bus_slot_unref>>;
using EventPtr = std::unique_ptr<sd_event, CDeleter<sd_event_unref>>;
using EventSourcePtr =
    std::unique_ptr<sd_event_source, CDeleter<sd_event_source_disable_unref>>;

// Takes a new reference (for handles sd-bus passes us borrowed).
inline MessagePtr ref(sd_bus_message *m) { return MessagePtr(sd_bus_message_ref(m)); }

// RAII for sd_bus_error.
struct BusError {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    BusError() = default;
    BusError(const BusError &) = delete;
    BusError &operator=(const BusError &) = delete;
    ~BusError() { sd_bus_error_free(&e); }
    sd_bus_error *operator&() noexcept { return &e; }
    bool is_set() const noexcept { return sd_bus_error_is_set(&e); }
    const char *name() const noexcept { return e.name ? e.name : ""; }
    const char *message() const noexcept { return e.message ? e.message : ""; }
};

} // namespace alopex
