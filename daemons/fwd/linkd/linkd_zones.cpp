// SPDX-License-Identifier: GPL-2.0-or-later
#include "linkd/linkd_zones.hpp"

#include "alopex/ipc/link1.hpp"
#include "alopex/ipc/link1_spec.hpp"
#include "alopex/log.hpp"

namespace alopex::fwd {

namespace l1 = ipc::link1;

namespace {

// Index, Name and Zone only: every other property of a link is skipped unread.
const bus::PropertyReader<LinkdLink> &reader()
{
    namespace p = l1::link::property;
    static const auto r = bus::PropertyReader<LinkdLink>(l1::link::spec)
                              .field(p::Index, &LinkdLink::ifindex)
                              .field(p::Name, &LinkdLink::name)
                              .field(p::Zone, &LinkdLink::zone);
    return r;
}

} // namespace

Result<std::unique_ptr<LinkdZones>> LinkdZones::start(sd_bus *bus, Callback cb)
{
    std::unique_ptr<LinkdZones> z(new LinkdZones(std::move(cb)));
    LinkdZones *self = z.get();
    bus::FollowerOptions o{l1::service, l1::path, l1::link_prefix};
    o.keep_on_vanish = true;   // interfaces stay in their zones while linkd restarts
    auto f = bus::Follower<LinkdLink>::start(
        bus, o, reader(),
        {.added = [self](const std::string &, const LinkdLink &l) { self->update(l); },
         .changed = [self](const std::string &, const LinkdLink &l,
                           const std::vector<std::string> &) { self->update(l); },
         .removed = [self](const std::string &, const LinkdLink &l) { self->remove(l); }});
    if (!f)
        return std::unexpected(f.error());
    z->follower_ = std::move(*f);
    z->follower_->on_synced = [self] { self->settle(); };
    z->follower_->on_absent = [self] { self->settle(); };
    z->follower_->on_error = [self](const Error &e) {
        log::warning("reading alopex-linkd's link zones: {}", e.to_string());
        self->settle();
    };
    return z;
}

LinkdZones::~LinkdZones() = default;

std::map<std::string, std::string> LinkdZones::zones() const
{
    std::map<std::string, std::string> out;
    if (!follower_)
        return out;
    for (const auto &[_, l] : follower_->objects())
        if (!l.zone.empty() && !l.name.empty())
            out[l.name] = l.zone;
    return out;
}

void LinkdZones::update(const LinkdLink &l)
{
    if (l.ifindex <= 0)
        return;
    auto it = zones_.find(l.ifindex);
    const std::string &before = it == zones_.end() ? std::string() : it->second;
    if (before == l.zone)
        return;
    if (l.zone.empty())
        zones_.erase(it);
    else
        zones_.insert_or_assign(l.ifindex, l.zone);
    if (cb_)
        cb_(l.ifindex, l.zone);
}

void LinkdZones::remove(const LinkdLink &l)
{
    if (zones_.erase(l.ifindex) && cb_)
        cb_(l.ifindex, std::string());
}

void LinkdZones::settle()
{
    if (settled_)
        return;
    settled_ = true;
    if (on_settled)
        on_settled();
}

} // namespace alopex::fwd
