// SPDX-License-Identifier: GPL-2.0-or-later
#include "configurator.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alopex/file.hpp"
#include "alopex/log.hpp"
#include "profile/owned.hpp"
#include "sysctl.hpp"

namespace alopex::linkd {

Configurator::Configurator(sd_event *event, Manager &manager, ChangeQueue &queue, std::filesystem::path dir,
                           std::filesystem::path owned_file)
    : event_(event), manager_(manager), queue_(queue), dir_(std::move(dir)), owned_file_(std::move(owned_file))
{
}

Configurator::~Configurator() = default;

Result<std::unique_ptr<Configurator>> Configurator::create(sd_event *event, Manager &manager, ChangeQueue &queue,
                                                           std::filesystem::path profiles_dir,
                                                           std::filesystem::path owned_file)
{
    std::unique_ptr<Configurator> c(
        new Configurator(event, manager, queue, std::move(profiles_dir), std::move(owned_file)));
    sd_event_source *s = nullptr;
    if (int r = sd_event_add_defer(event, &s, on_defer, c.get()); r < 0)
        return fail(-r, "cannot add the profile apply event source");
    c->defer_.reset(s);
    // After the monitor has read what is queued: a round plans from a state in step with
    // the kernel's reports (change_queue.hpp).
    sd_event_source_set_priority(s, planning_priority);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    c->load_owned();
    // A bad profile set at start is logged; linkd still runs (and publishes state), with
    // nothing to apply until a reload succeeds.
    if (auto r = c->profiles_.update(profile::load_directory(c->dir_)); !r)
        log::err("profiles refused: {}", r.error().to_string());
    c->install_hooks();
    return c;
}

void Configurator::install_hooks()
{
    Hooks &h = manager_.hooks;
    h.synced.add([this] { schedule(); });
    h.link_added.add([this](const LinkState &) { schedule(); });
    h.link_changed.add([this](const LinkState &, const netlink::Link &) { schedule(); });
    h.link_removed.add([this](int, const std::string &) { schedule(); });
}

Result<> Configurator::reload()
{
    if (auto r = profiles_.update(profile::load_directory(dir_)); !r)
        return r;
    manager_.record("link.profile.reload", nlohmann::json{{"dir", dir_.string()}}.dump());
    last_failures_.clear();
    release_hold();
    if (round_queued_)
        again_now_ = true;   // the round in flight planned from the old set
    if (manager_.synced())
        apply();
    return {};
}

void Configurator::when_applied(std::function<void()> then)
{
    // Before the routes are in, the first round is still to come: its answers, too.
    if (!round_queued_ && manager_.synced())
        then();
    else
        applied_waiters_.push_back(std::move(then));
}

Participant Configurator::checkpoint_participant()
{
    return {"profiles", [this] {
                auto saved = profiles_.snapshot();
                return std::function<void()>([this, saved] {
                    if (!saved || saved == profiles_.snapshot() || *saved == *profiles_)
                        return;
                    (void)profiles_.update(profile::Profiles(*saved));
                    last_failures_.clear();
                    release_hold();
                    log::notice("checkpoint rollback: the profiles in force at the checkpoint apply again; "
                                "{} is read again at the next Reload", dir_.string());
                    schedule();
                });
            }};
}

void Configurator::schedule()
{
    if (manager_.synced() && !retry_)
        sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT);
}

void Configurator::hold_after_repeated_failure()
{
    retry_delay_usec_ = std::clamp<uint64_t>(retry_delay_usec_ * 2, 500'000, 60'000'000);
    sd_event_source *s = nullptr;
    if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, retry_delay_usec_, 100'000, on_retry, this) < 0)
        return;   // no timer: the next event retries, as without a hold
    retry_.reset(s);
    log::debug("profiles: the same requests failed again; next round in {} ms", retry_delay_usec_ / 1000);
}

void Configurator::release_hold()
{
    retry_.reset();
    retry_delay_usec_ = 0;
}

int Configurator::on_retry(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *self = static_cast<Configurator *>(userdata);
    try {
        self->retry_.reset();
        self->apply();
    } catch (const std::exception &e) {
        log::err("applying the profiles failed: {}", e.what());
    }
    return 0;
}

int Configurator::on_defer(sd_event_source *, void *userdata) noexcept
{
    try {
        static_cast<Configurator *>(userdata)->apply();
    } catch (const std::exception &e) {
        log::err("applying the profiles failed: {}", e.what());
    }
    return 0;
}

bool Configurator::managed(int ifindex) const
{
    for (const auto &i : intents_)
        if (i.ifindex == ifindex)
            return true;
    return false;
}

void Configurator::apply()
{
    if (!manager_.synced())
        return;
    if (round_queued_) {
        again_ = true;   // once the queued round is done: it may have planned too early
        return;
    }
    round_queued_ = true;
    queue_.enqueue([this](ChangeQueue::Finish finish) { start_round(std::move(finish)); });
}

void Configurator::start_round(ChangeQueue::Finish finish)
{
    if (!profiles_.has_value()) {
        end_round();
        finish();
        return;
    }
    const netlink::Snapshot &kernel = manager_.snapshot();
    auto round = std::make_shared<Round>();
    round->before = owned_;
    profile::forget_absent(owned_, kernel);
    round->plan = profile::plan(*profiles_, kernel, owned_);
    const profile::Plan &p = round->plan;
    // What already exists in the desired shape is ours to keep from now on (adoption
    // after a lost record); see plan.hpp.
    for (const auto &n : p.present.netdevs)
        owned_.netdevs.insert(n);
    for (const auto &a : p.present.addresses) {
        owned_.addresses.insert(a);
        // Published as the profile's too (after a restart nothing else tells the manager).
        manager_.note_owned_address(a.ifindex, a.family, a.address, a.prefixlen, Origin::Static);
    }
    for (const auto &r : p.present.routes)
        owned_.routes.insert(r);
    for (const auto &note : p.notes)
        log::notice("profiles: {}", note);
    if (p.requests.empty()) {
        finish_round(*round, {});
        finish();
        return;
    }
    for (const auto &r : p.requests) {
        if (r.op == rtnl::Request::Op::AddAddress)
            manager_.note_owned_address(r.address.ifindex, r.address.family, r.address.address,
                                        r.address.prefixlen, Origin::Static);
        if (r.op == rtnl::Request::Op::AddRoute || r.op == rtnl::Request::Op::ReplaceRoute)
            manager_.manage_table(r.route.table);
        // The names of the links it deletes, as planned: the monitor may have seen them go
        // by the time the answers are in.
        if (r.op == rtnl::Request::Op::DeleteLink)
            if (auto it = kernel.links.find(r.ifindex); it != kernel.links.end())
                round->deleted.links.insert(*it);
    }
    queue_.submit(p.requests, [this, round, finish = std::move(finish)](Result<std::vector<Result<>>> results) {
        const auto &requests = round->plan.requests;
        std::string failures;
        if (!results) {
            failures = results.error().to_string();
        } else {
            for (size_t i = 0; i < results->size(); ++i) {
                if ((*results)[i])
                    profile::note_success(owned_, requests[i], round->deleted);
                else
                    failures += (failures.empty() ? "" : "; ") + (*results)[i].error().message;
            }
        }
        log::info({{"ALOPEX_REQUESTS", std::to_string(requests.size())}}, "profiles: applied {} request(s){}",
                  requests.size(), failures.empty() ? "" : ", some failed");
        record_round(requests, failures);
        finish_round(*round, failures);
        finish();
    });
}

// The kernel has answered (or there was nothing to ask): what the round decided applies.
void Configurator::finish_round(Round &round, const std::string &failures)
{
    if (!failures.empty() && failures != last_failures_)
        log::err("profiles: {}", failures);
    if (failures.empty())
        release_hold();
    else if (failures == last_failures_)
        hold_after_repeated_failure();
    last_failures_ = failures;

    const profile::Plan &p = round.plan;
    publish(p.links);
    for (const auto &i : p.links) {
        if (i.slaac) {
            if (auto s = set_slaac(i.name, *i.slaac); !s)
                log::warning({{"ALOPEX_LINK", i.name}}, "slaac on {}: {}", i.name, s.error().to_string());
            else if (*s)
                log::info({{"ALOPEX_LINK", i.name}}, "IPv6 autoconfiguration {} on {}", *i.slaac ? "on" : "off",
                          i.name);
        }
    }
    intents_ = std::move(round.plan.links);
    if (on_intents)
        on_intents(intents_);
    // Only now, with the kernel's answers in: owned.json never claims what it refused.
    if (!(round.before == owned_))
        save_owned();
    end_round();
}

// Managed, and a profile's zone and DNS when it has them; otherwise what was set at run
// time (SetZone) stays.
void Configurator::publish(const std::vector<profile::LinkIntent> &links)
{
    for (const auto &[index, l] : manager_.links()) {
        bool m = std::any_of(links.begin(), links.end(), [&](const auto &i) { return i.ifindex == index; });
        manager_.set_managed(index, m);
    }
    for (const auto &i : links) {
        if (!i.zone.empty())
            manager_.set_zone(i.ifindex, i.zone);
        std::vector<std::string> servers;
        for (const auto &s : i.dns_servers)
            servers.push_back(s.to_string());
        if (!servers.empty() || !i.dns_domains.empty())
            manager_.set_dns(i.ifindex, std::move(servers), i.dns_domains);
    }
}

void Configurator::publish_matches()
{
    if (!profiles_.has_value())
        return;
    // Only the plan's links are used: which profile applies to which link needs links
    // alone, while its requests would be planned without the routes.
    publish(profile::plan(*profiles_, manager_.snapshot(), owned_).links);
}

void Configurator::end_round()
{
    round_queued_ = false;
    if (again_now_) {
        // A reload during the round: its round follows at once, whatever a retry delay says.
        again_now_ = again_ = false;
        release_hold();
        apply();
    } else if (again_) {
        again_ = false;
        schedule();
    }
    if (on_round)
        on_round();
    if (!round_queued_)
        for (auto &then : std::exchange(applied_waiters_, {}))
            then();
}

void Configurator::record_round(const std::vector<rtnl::Request> &requests, const std::string &failures)
{
    // What the round did, bounded: the ledger takes at most 64 KiB of details.
    constexpr size_t max_listed = 64;
    auto what = nlohmann::json::array();
    for (size_t i = 0; i < requests.size() && i < max_listed; ++i)
        what.push_back(requests[i].what);
    nlohmann::json d{{"requests", requests.size()}, {"what", std::move(what)}};
    if (!failures.empty())
        d["failures"] = failures.size() > 4096 ? failures.substr(0, 4096) + "..." : failures;
    manager_.record("link.profile.apply", d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Configurator::load_owned()
{
    auto text = read_regular_file(owned_file_, profile::max_owned_file);
    if (!text) {
        if (text.error().code != ENOENT)
            log::warning("{}: {}; starting with nothing owned", owned_file_.string(), text.error().to_string());
        return;
    }
    auto owned = profile::parse_owned(*text);
    if (!owned) {
        log::warning("{}: unreadable ({}); starting with nothing owned", owned_file_.string(),
                     owned.error().message);
        owned_ = {};
        return;
    }
    owned_ = std::move(*owned);
}

void Configurator::save_owned() const
{
    if (owned_file_.empty())
        return;
    if (auto r = write_file_atomic(owned_file_, profile::format_owned(owned_), {.mode = 0640}); !r)
        log::warning("cannot record what linkd owns: {}", r.error().to_string());
}

} // namespace alopex::linkd
