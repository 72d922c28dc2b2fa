// SPDX-License-Identifier: GPL-2.0-or-later
// Profile rounds, checkpoint rollbacks and DHCP leases never wait for the kernel: the test
// plays the kernel (apply_rig.hpp) and holds its answers back. Meanwhile the loop keeps
// running (its 1 ms ticker stands for a D-Bus Version call), nothing that must follow the
// kernel's answers has happened (owned.json, the ledger record, the rollback's end, the
// lease published), and the ChangeQueue keeps the jobs in order; once the answers are
// released, each completes. A kernel that never answers fails the job with ETIMEDOUT and
// leaves what it guards unchanged.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "alopex/fd.hpp"
#include "apply_rig.hpp"
#include "checkpoint.hpp"
#include "configurator.hpp"
#include "dhcp_links.hpp"
#include "net_test.hpp"
#include "profile/owned.hpp"

using namespace alopex;
using namespace alopex::linkd;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Record {
    std::string action, details;
};

struct Rig : linkd_test::ApplyRig {
    std::vector<Record> records;

    explicit Rig(std::chrono::microseconds timeout = 5s) : ApplyRig(timeout)
    {
        fs::create_directory(dir / "links");
        manager->set_record_sink([this](std::string a, std::string d) { records.push_back({a, d}); });
        manager->handle({netlink::Change::New, link(2, "eth0", true), {}});
        manager->handle_synced(true);
    }
    static netlink::Link link(int ifindex, std::string name, bool up)
    {
        netlink::Link l;
        l.ifindex = ifindex;
        l.name = std::move(name);
        l.mtu = 1500;
        l.flags = up ? IFF_UP | IFF_LOWER_UP | IFF_RUNNING : 0;
        l.carrier = up;
        return l;
    }
    // The sequence numbers and types of the requests the kernel (the test) has received.
    std::vector<std::pair<uint32_t, uint16_t>> requests_seen()
    {
        std::vector<std::pair<uint32_t, uint16_t>> out;
        for (auto &d : received()) {
            size_t len = d.size();
            for (auto *h = reinterpret_cast<const nlmsghdr *>(d.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
                out.emplace_back(h->nlmsg_seq, h->nlmsg_type);
        }
        return out;
    }
    // The proof that nothing waits for the kernel: the loop's 1 ms ticker keeps ticking
    // (what a D-Bus Version call would be answered from).
    void loop_keeps_running()
    {
        int before = ticks;
        run_for(50ms);
        CHECK(ticks > before + 10);
    }
    // Runs the loop until requests arrive; returns them.
    std::vector<std::pair<uint32_t, uint16_t>> wait_requests()
    {
        std::vector<std::pair<uint32_t, uint16_t>> seen;
        run_until([&] {
            auto more = requests_seen();
            seen.insert(seen.end(), more.begin(), more.end());
            return !seen.empty();
        });
        return seen;
    }
    void answer_all(const std::vector<std::pair<uint32_t, uint16_t>> &seen, int err = 0)
    {
        for (auto [seq, type] : seen)
            reply(test::answer(seq, err));
    }
    // A permanent 192.0.2.x/24-style address on eth0, as the monitor would report it.
    void add_address(const char *ip)
    {
        netlink::Address a;
        a.ifindex = 2;
        a.family = AF_INET;
        a.address = test::ip(ip);
        a.prefixlen = 24;
        a.flags = IFA_F_PERMANENT;
        manager->handle({netlink::Change::New, a, {}});
    }
    const Record *record(const std::string &action) const
    {
        for (const auto &r : records)
            if (r.action == action)
                return &r;
        return nullptr;
    }
    std::unique_ptr<Configurator> configurator()
    {
        write_profile();
        auto c = Configurator::create(event.get(), *manager, *queue, dir / "links", dir / "owned.json");
        REQUIRE(c);
        return std::move(*c);
    }
    void write_profile() const
    {
        std::ofstream(dir / "links" / "eth0.toml")
            << "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\"]\n";
    }
};

bool owns_address(const fs::path &file)
{
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto o = profile::parse_owned(ss.str());
    return o && o->addresses.size() == 1 && o->addresses.begin()->address == test::ip("192.0.2.10");
}

} // namespace

TEST_CASE("change queue: one job at a time, in order; the next after the one before finished")
{
    Rig rig;
    std::vector<std::string> log;
    ChangeQueue::Finish first;
    rig.queue->enqueue([&](ChangeQueue::Finish f) {
        log.push_back("first");
        first = std::move(f);
    });
    rig.queue->enqueue([&](ChangeQueue::Finish f) {
        log.push_back("second");
        f();
        f();   // a second call does nothing
    });
    rig.queue->enqueue([&](ChangeQueue::Finish f) {
        log.push_back("third");
        f();
    });
    CHECK(log == std::vector<std::string>{"first"});   // at once: the queue was idle
    CHECK(rig.queue->busy());
    rig.run_for(20ms);
    CHECK(log == std::vector<std::string>{"first"});
    first();
    rig.run_until([&] { return log.size() == 3; });
    CHECK(log == std::vector<std::string>{"first", "second", "third"});
    CHECK_FALSE(rig.queue->busy());
    CHECK(rig.queue->waiting() == 0);
}

TEST_CASE("change queue: the next job plans only after the monitor has read what the kernel reported")
{
    // The kernel queues its reports of a job's changes (multicast, on the monitor's
    // socket) before its answers; the job after it starts from a defer source below the
    // monitor's priority, so it plans from a state that has them. A pipe with three
    // reports, read one at a time by an io source at the monitor's priority, stands in.
    Rig rig;
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    Fd rd(fds[0]), wr(fds[1]);
    int reports_read = 0;
    sd_event_source *src = nullptr;
    REQUIRE(sd_event_add_io(rig.event.get(), &src, rd.get(), EPOLLIN,
                            [](sd_event_source *, int fd, uint32_t, void *userdata) -> int {
                                char c;
                                if (read(fd, &c, 1) == 1)
                                    ++*static_cast<int *>(userdata);
                                return 0;
                            },
                            &reports_read) >= 0);
    EventSourcePtr monitor(src);
    REQUIRE(sd_event_source_set_priority(src, SD_EVENT_PRIORITY_NORMAL) >= 0);

    ChangeQueue::Finish first;
    std::optional<int> seen_by_second;
    rig.queue->enqueue([&](ChangeQueue::Finish f) { first = std::move(f); });
    rig.queue->enqueue([&](ChangeQueue::Finish f) {
        seen_by_second = reports_read;
        f();
    });
    REQUIRE(write(wr.get(), "abc", 3) == 3);   // the kernel's reports of the first job ...
    first();                                  // ... then its answers end it
    rig.run_until([&] { return seen_by_second.has_value(); });
    CHECK(*seen_by_second == 3);
}

TEST_CASE("profile round: in flight while the loop runs; owned.json and the record follow the answers")
{
    Rig rig;
    auto conf = rig.configurator();
    int rounds = 0;
    conf->on_round = [&] { ++rounds; };
    conf->apply();
    conf->apply();   // asked again meanwhile: one more round follows, not more, and not now
    conf->apply();
    auto seen = rig.wait_requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].second == RTM_NEWADDR);
    rig.loop_keeps_running();
    CHECK(rounds == 0);
    CHECK_FALSE(fs::exists(rig.dir / "owned.json"));
    CHECK(rig.record("link.profile.apply") == nullptr);
    CHECK(rig.queue->busy());

    rig.answer_all(seen);
    rig.run_until([&] { return rounds >= 1; });
    CHECK(owns_address(rig.dir / "owned.json"));
    const Record *r = rig.record("link.profile.apply");
    REQUIRE(r);
    CHECK(r->details.find("failures") == std::string::npos);
    // The second round plans from the kernel as the monitor reports it: the address is
    // there now, so nothing is sent.
    rig.add_address("192.0.2.10");
    rig.run_until([&] { return rounds >= 2; });
    CHECK(rig.requests_seen().empty());
    rig.run_for(20ms);
    CHECK(rounds == 2);
}

TEST_CASE("profile round: a reload during a round is applied right after it; when_applied waits for that")
{
    Rig rig;
    auto conf = rig.configurator();
    conf->apply();
    auto first = rig.wait_requests();
    REQUIRE(first.size() == 1);
    std::ofstream(rig.dir / "links" / "eth0.toml")
        << "[match]\nname = \"eth0\"\n[ipv4]\naddresses = [\"192.0.2.10/24\", \"192.0.2.11/24\"]\n";
    REQUIRE(conf->reload());
    bool applied = false;
    conf->when_applied([&] { applied = true; });
    rig.answer_all(first);
    auto second = rig.wait_requests();   // the reloaded set's round
    CHECK(second.size() == 2);
    CHECK_FALSE(applied);
    rig.answer_all(second);
    rig.run_until([&] { return applied; });
    bool at_once = false;
    conf->when_applied([&] { at_once = true; });   // nothing queued or in flight
    CHECK(at_once);
}

TEST_CASE("profile round: a kernel that never answers fails it with ETIMEDOUT; owned.json stays as it was")
{
    Rig rig(100ms);
    auto conf = rig.configurator();
    int rounds = 0;
    conf->on_round = [&] { ++rounds; };
    conf->apply();
    rig.run_until([&] { return rounds == 1; }, 3000ms);
    CHECK_FALSE(fs::exists(rig.dir / "owned.json"));
    CHECK(conf->owned() == profile::Owned{});
    const Record *r = rig.record("link.profile.apply");
    REQUIRE(r);
    CHECK(r->details.find("failures") != std::string::npos);
    CHECK(r->details.find("no answer") != std::string::npos);
}

TEST_CASE("checkpoint rollback: waits for a profile round in flight, then completes with the kernel's answers")
{
    Rig rig;
    auto conf = rig.configurator();
    auto cps = Checkpoints::create(rig.event.get(), *rig.manager, *rig.queue, rig.dir);
    REQUIRE(cps);
    auto path = (*cps)->create_checkpoint(600);
    REQUIRE(path);
    // An address added after the checkpoint (by someone else): the rollback removes it.
    rig.add_address("198.51.100.7");

    conf->apply();   // the profile round goes first
    bool done = false;
    REQUIRE((*cps)->rollback(*path, [&] { done = true; }));
    CHECK((*cps)->confirm(*path).error().bus_name == bus_error::NoSuchId);   // taken out at once
    rig.run_for(50ms);
    auto round = rig.requests_seen();
    REQUIRE(round.size() == 1);   // only the round's: the rollback waits its turn
    CHECK_FALSE(done);
    rig.answer_all(round);
    auto rollback = rig.wait_requests();
    REQUIRE(rollback.size() == 1);
    CHECK(rollback[0].second == RTM_DELADDR);
    CHECK_FALSE(done);
    CHECK(fs::exists(rig.dir / "checkpoint-1.json"));   // kept until the rollback is done
    CHECK(rig.record("link.checkpoint.rollback") == nullptr);
    rig.answer_all(rollback);
    rig.run_until([&] { return done; });
    CHECK_FALSE(fs::exists(rig.dir / "checkpoint-1.json"));
    CHECK(rig.record("link.checkpoint.rollback") != nullptr);
}

TEST_CASE("checkpoint rollback: done and recorded once the kernel answered; ETIMEDOUT counts as failed")
{
    for (bool answer : {true, false}) {
        Rig rig(answer ? std::chrono::microseconds(5s) : std::chrono::microseconds(100ms));
        auto cps = Checkpoints::create(rig.event.get(), *rig.manager, *rig.queue, rig.dir);
        REQUIRE(cps);
        auto path = (*cps)->create_checkpoint(600);
        REQUIRE(path);
        rig.add_address("198.51.100.7");
        bool done = false;
        REQUIRE((*cps)->rollback(*path, [&] { done = true; }));
        auto seen = rig.wait_requests();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].second == RTM_DELADDR);
        rig.loop_keeps_running();
        CHECK_FALSE(done);
        CHECK(fs::exists(rig.dir / "checkpoint-1.json"));
        if (answer)
            rig.answer_all(seen);
        rig.run_until([&] { return done; }, 3000ms);
        CHECK_FALSE(fs::exists(rig.dir / "checkpoint-1.json"));
        const Record *r = rig.record("link.checkpoint.rollback");
        REQUIRE(r);
        CHECK(r->details.find(answer ? "\"failed\":0" : "\"failed\":1") != std::string::npos);
    }
}

namespace {

dhcp::Lease lease(uint32_t address)
{
    dhcp::Lease l;
    l.address = address;
    l.prefixlen = 24;
    l.server_id = address | 0xff;
    l.lease_s = 3600;
    l.t1_s = 1800;
    l.t2_s = 3150;
    l.dns.push_back(0x0a000035);
    return l;
}

struct DhcpRig : Rig {
    DhcpLinks dhcp{event.get(), *manager, *queue, dir};
    DhcpRig()
    {
        // A link that is down: the entry exists, no client runs; the test calls back.
        manager->handle({netlink::Change::New, link(3, "lan0", false), {}});
        profile::LinkIntent i;
        i.ifindex = 3;
        i.name = "lan0";
        i.dhcp4 = true;
        dhcp.update({i});
    }
    // A lease bound on lan0: the requests the kernel (the test) got for it, unanswered.
    std::vector<std::pair<uint32_t, uint16_t>> bind(uint32_t address)
    {
        dhcp.bound(3, lease(address));
        auto seen = wait_requests();
        CHECK(seen[0].second == RTM_NEWADDR);
        return seen;
    }
};

} // namespace

TEST_CASE("DHCP lease: bound (DNS set, published) only once the kernel answered for it")
{
    DhcpRig rig;
    auto seen = rig.bind(0x0a000002);
    rig.loop_keeps_running();
    CHECK(rig.dhcp.applied_lease(3) == nullptr);
    CHECK(rig.manager->link(3)->dns_servers().empty());
    rig.answer_all(seen);
    rig.run_until([&] { return rig.dhcp.applied_lease(3) != nullptr; });
    CHECK(rig.manager->link(3)->dns_servers() == std::vector<std::string>{"10.0.0.53"});
}

TEST_CASE("DHCP lease: lost while its requests are in flight, it is not applied and is taken out after")
{
    DhcpRig rig;
    auto adds = rig.bind(0x0a000002);
    rig.dhcp.lost(3);
    rig.run_for(20ms);
    CHECK(rig.requests_seen().empty());   // the removal waits for the answers to the adds
    rig.answer_all(adds);
    auto removal = rig.wait_requests();
    CHECK(removal.back().second == RTM_DELADDR);
    CHECK(rig.dhcp.applied_lease(3) == nullptr);
    CHECK(rig.manager->link(3)->dns_servers().empty());
    rig.answer_all(removal, EADDRNOTAVAIL);
    rig.run_until([&] { return !rig.queue->busy(); });
    CHECK(rig.dhcp.applied_lease(3) == nullptr);
}

TEST_CASE("DHCP lease: one lost before its turn is never sent")
{
    DhcpRig rig;
    ChangeQueue::Finish hold;
    rig.queue->enqueue([&](ChangeQueue::Finish f) { hold = std::move(f); });
    rig.dhcp.bound(3, lease(0x0a000002));
    rig.dhcp.lost(3);
    hold();
    auto seen = rig.wait_requests();
    for (auto [seq, type] : seen)
        CHECK(type != RTM_NEWADDR);   // only the (harmless) removal
    rig.answer_all(seen, EADDRNOTAVAIL);
    rig.run_until([&] { return !rig.queue->busy(); });
    CHECK(rig.dhcp.applied_lease(3) == nullptr);
}
