// SPDX-License-Identifier: GPL-2.0-or-later
// Following another daemon's objects: one interface of the objects below a path, kept in
// a local map from one GetManagedObjects and then from signals only — InterfacesAdded,
// InterfacesRemoved, and PropertiesChanged filtered in the bus daemon by sender, path
// namespace and interface (arg0), applied as deltas. The other daemon's name appearing
// (a start, a restart) causes one full read, its going away is reported; nothing polls
// and no change costs more than the object it touches.
//
//   bus::Follower<LinkInfo>::Options o{ipc::link1::service, ipc::link1::path,
//                                      ipc::link1::link_prefix};
//   auto f = bus::Follower<LinkInfo>::start(bus, o, link_reader(), {
//       .changed = [](const std::string &path, const LinkInfo &now,
//                     const std::vector<std::string> &props) { ... }});
//
// Callbacks run from the event loop. A full read (first, and after a restart of the other
// daemon) reports each difference from the previous map: added, removed, and changed with
// the list of properties empty (S must be equality-comparable).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include "alopex/bus/reader.hpp"
#include "alopex/error.hpp"
#include "alopex/sd.hpp"

namespace alopex::bus {

struct FollowerOptions {
    const char *service;           // the well-known name followed (never started by us)
    const char *manager;           // its ObjectManager path
    const char *subtree;           // objects below this path (path_namespace)
    uint64_t timeout_usec = 5'000'000;   // for the full read
    // Keep the last objects when the service goes away (fwd: interfaces stay in their
    // zones) instead of reporting each as removed.
    bool keep_on_vanish = false;
};

class FollowerBase {
public:
    FollowerBase(const FollowerBase &) = delete;
    FollowerBase &operator=(const FollowerBase &) = delete;
    virtual ~FollowerBase();

    bool present() const noexcept { return present_; }   // the service has an owner
    bool synced() const noexcept { return synced_; }     // a full read since it appeared
    uint64_t full_reads() const noexcept { return full_reads_; }
    // Reads everything again (after a D-Bus error, or to verify).
    void refresh();

    std::function<void()> on_synced;     // after each full read
    std::function<void()> on_vanished;   // the service lost its owner
    std::function<void()> on_absent;     // a full read found no owner (it is not running)
    std::function<void(const Error &)> on_error;

protected:
    FollowerBase(sd_bus *bus, FollowerOptions options, const PropertyReaderBase &reader);
    Result<> start();

    virtual Result<> full(sd_bus_message *reply) = 0;                        // GetManagedObjects
    virtual Result<> added(const std::string &path, sd_bus_message *dict) = 0; // a{sv}
    virtual void removed(const std::string &path) = 0;
    virtual Result<> changed(const std::string &path, sd_bus_message *dict) = 0;
    virtual void vanished() = 0;

    const PropertyReaderBase &reader_;
    FollowerOptions opt_;

private:
    static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *) noexcept;
    void report(const Error &e);
    bool in_subtree(const char *path) const;

    sd_bus *bus_;
    SlotPtr owner_slot_, added_slot_, removed_slot_, props_slot_, call_slot_;
    bool present_ = false, synced_ = false, again_ = false;
    uint64_t full_reads_ = 0;
};

template <typename S> class Follower final : public FollowerBase {
public:
    struct Callbacks {
        std::function<void(const std::string &path, const S &)> added;
        // `props`: the properties that changed; empty after a full read.
        std::function<void(const std::string &path, const S &now, const std::vector<std::string> &props)> changed;
        std::function<void(const std::string &path, const S &last)> removed;
    };

    static Result<std::unique_ptr<Follower>> start(sd_bus *bus, FollowerOptions options,
                                                   const PropertyReader<S> &reader, Callbacks cb = {})
    {
        std::unique_ptr<Follower> f(new Follower(bus, options, reader, std::move(cb)));
        ALOPEX_TRY_VOID(f->FollowerBase::start());
        return f;
    }

    const std::map<std::string, S> &objects() const noexcept { return objects_; }
    const S *find(const std::string &path) const
    {
        auto it = objects_.find(path);
        return it == objects_.end() ? nullptr : &it->second;
    }

private:
    Follower(sd_bus *bus, FollowerOptions options, const PropertyReader<S> &reader, Callbacks cb)
        : FollowerBase(bus, options, reader), typed_(reader), cb_(std::move(cb)) {}

    Result<> full(sd_bus_message *reply) override
    {
        ALOPEX_TRY(fresh, read_managed_objects(reply, typed_));
        std::map<std::string, S> now;
        for (auto &[path, s] : fresh)
            if (path.rfind(opt_.subtree, 0) == 0)
                now.emplace(std::move(path), std::move(s));
        auto old = std::move(objects_);
        objects_ = std::move(now);
        for (const auto &[path, s] : old)
            if (!objects_.contains(path) && cb_.removed)
                cb_.removed(path, s);
        for (const auto &[path, s] : objects_) {
            auto it = old.find(path);
            if (it == old.end()) {
                if (cb_.added)
                    cb_.added(path, s);
            } else if (!(it->second == s) && cb_.changed) {
                cb_.changed(path, s, {});
            }
        }
        return {};
    }
    Result<> added(const std::string &path, sd_bus_message *dict) override
    {
        S s{};
        ALOPEX_TRY_VOID(typed_.read_dict(dict, s));
        auto [it, _] = objects_.insert_or_assign(path, std::move(s));
        if (cb_.added)
            cb_.added(path, it->second);
        return {};
    }
    void removed(const std::string &path) override
    {
        auto node = objects_.extract(path);
        if (!node.empty() && cb_.removed)
            cb_.removed(path, node.mapped());
    }
    Result<> changed(const std::string &path, sd_bus_message *dict) override
    {
        auto it = objects_.find(path);
        if (it == objects_.end())
            return {};   // a full read in flight will have it
        std::vector<std::string> props;
        S copy = it->second;
        ALOPEX_TRY_VOID(typed_.read_dict(dict, copy, &props));
        it->second = std::move(copy);
        if (!props.empty() && cb_.changed)
            cb_.changed(path, it->second, props);
        return {};
    }
    void vanished() override
    {
        if (opt_.keep_on_vanish)
            return;
        auto old = std::move(objects_);
        objects_.clear();
        if (cb_.removed)
            for (const auto &[path, s] : old)
                cb_.removed(path, s);
    }

    const PropertyReader<S> &typed_;
    Callbacks cb_;
    std::map<std::string, S> objects_;
};

} // namespace alopex::bus
