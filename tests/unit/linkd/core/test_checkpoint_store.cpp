// SPDX-License-Identifier: GPL-2.0-or-later
// Checkpoints kept in the state directory: a file per pending checkpoint, written before
// CheckpointCreate answers and removed on confirm and rollback; read back at start (this
// boot's only; foreign or hostile files set aside), resumed after the first dump: an
// overdue one rolled back at once, the others waiting for their deadline. The kernel
// state is empty and stays so, so no request ever reaches the kernel.
#include <systemd/sd-id128.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "apply_rig.hpp"
#include "checkpoint_file.hpp"

using namespace alopex;
using namespace alopex::linkd;
namespace fs = std::filesystem;

namespace {

std::string boot_id()
{
    sd_id128_t id{};
    REQUIRE(sd_id128_get_boot(&id) >= 0);
    char text[SD_ID128_STRING_MAX];
    return sd_id128_to_string(id, text);
}

using linkd_test::boottime_usec;

struct Rig : linkd_test::ApplyRig {
    std::unique_ptr<Checkpoints> start()
    {
        auto c = Checkpoints::create(event.get(), *manager, *queue, dir);
        REQUIRE(c);
        return std::move(*c);
    }
    // Runs the loop until pred() holds or 10 s pass.
    bool run_until(const std::function<bool()> &pred)
    {
        auto deadline = boottime_usec() + 10'000'000;
        while (!pred() && boottime_usec() < deadline)
            REQUIRE(sd_event_run(event.get(), 50'000) >= 0);
        return pred();
    }
};

CheckpointRecord record(uint64_t id, uint64_t deadline, std::string boot = boot_id())
{
    CheckpointRecord r;
    r.id = id;
    r.boot_id = std::move(boot);
    r.deadline_usec = deadline;
    return r;
}

} // namespace

TEST_CASE("checkpoint store: a file per pending checkpoint, gone on confirm and rollback")
{
    Rig rig;
    auto cps = rig.start();
    auto a = cps->create_checkpoint(600);
    REQUIRE(a);
    CHECK(*a == "/org/alopex/Link1/checkpoint/1");
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-1.json"});
    auto rec = parse_checkpoint(rig.read("checkpoint-1.json"));
    REQUIRE(rec);
    CHECK(rec->id == 1);
    CHECK(rec->boot_id == boot_id());
    uint64_t now = boottime_usec();
    CHECK(rec->deadline_usec > now + 590'000'000);
    CHECK(rec->deadline_usec <= now + 600'000'000);
    auto b = cps->create_checkpoint(600);
    REQUIRE(b);
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-1.json", "checkpoint-2.json"});
    REQUIRE(cps->confirm(*a));
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-2.json"});
    REQUIRE(cps->rollback(*b));
    CHECK(rig.entries().empty());
}

TEST_CASE("checkpoint store: a checkpoint that cannot be kept is refused")
{
    Rig rig;
    auto cps = rig.start();
    // The directory is gone and a file holds its name: nothing can be written there.
    fs::remove_all(rig.dir);
    std::ofstream(rig.dir) << "x";
    auto a = cps->create_checkpoint(60);
    REQUIRE_FALSE(a);
    CHECK(a.error().bus_name == bus_error::IOError);
    CHECK_FALSE(cps->confirm("/org/alopex/Link1/checkpoint/1"));
    fs::remove(rig.dir);
    fs::create_directory(rig.dir);
}

TEST_CASE("checkpoint store: at most max_checkpoints pending")
{
    Rig rig;
    auto cps = rig.start();
    for (size_t i = 0; i < max_checkpoints; ++i)
        REQUIRE(cps->create_checkpoint(600));
    auto more = cps->create_checkpoint(600);
    REQUIRE_FALSE(more);
    CHECK(more.error().bus_name == bus_error::TooLarge);
    CHECK(rig.entries().size() == max_checkpoints);
}

TEST_CASE("checkpoint store: read back at start under the old path; overdue rolled back after the first dump")
{
    Rig rig;
    uint64_t now = boottime_usec();
    rig.write("checkpoint-4.json", format_checkpoint(record(4, now - 1'000'000)));         // overdue
    rig.write("checkpoint-9.json", format_checkpoint(record(9, now + 300'000'000)));       // pending
    auto cps = rig.start();
    // Nothing happens before the first dump: both are pending, and can be confirmed.
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-4.json", "checkpoint-9.json"});
    rig.manager->handle_synced(true);
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-9.json"});
    CHECK(cps->confirm("/org/alopex/Link1/checkpoint/4").error().bus_name == bus_error::NoSuchId);
    // New ones are numbered after the ones read back.
    auto fresh = cps->create_checkpoint(600);
    REQUIRE(fresh);
    CHECK(*fresh == "/org/alopex/Link1/checkpoint/10");
    REQUIRE(cps->confirm("/org/alopex/Link1/checkpoint/9"));
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-10.json"});
}

TEST_CASE("checkpoint store: one not yet due is rolled back by its re-armed timer")
{
    Rig rig;
    rig.write("checkpoint-3.json", format_checkpoint(record(3, boottime_usec() + 300'000)));
    auto cps = rig.start();
    rig.manager->handle_synced(true);
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-3.json"});   // not yet
    CHECK(rig.run_until([&] { return rig.entries().empty(); }));
    CHECK(cps->confirm("/org/alopex/Link1/checkpoint/3").error().bus_name == bus_error::NoSuchId);
}

TEST_CASE("checkpoint store: foreign, hostile and stray files")
{
    Rig rig;
    uint64_t now = boottime_usec();
    rig.write("checkpoint-1.json", format_checkpoint(record(1, now + 60'000'000, std::string(32, 'a'))));  // old boot
    rig.write("checkpoint-2.json", "{\"version\":1,");                                                       // torn
    rig.write("checkpoint-3.json", format_checkpoint(record(4, now + 60'000'000)));                          // id
    rig.write("checkpoint-5.json", format_checkpoint(record(5, now + 25 * 3600 * 1'000'000ull)));            // far
    rig.write("checkpoint-6.json", format_checkpoint(record(6, now + 60'000'000)));                          // good
    rig.write("checkpoint-7.json.invalid", "x");
    rig.write("dhcp4-eth0.lease", "x");
    fs::create_symlink("/etc/passwd", rig.dir / "checkpoint-8.json");                                         // not regular
    auto cps = rig.start();
    CHECK(rig.entries() == std::set<std::string>{"checkpoint-2.json.invalid", "checkpoint-3.json.invalid",
                                                 "checkpoint-5.json.invalid", "checkpoint-6.json",
                                                 "checkpoint-7.json.invalid", "checkpoint-8.json.invalid",
                                                 "dhcp4-eth0.lease"});
    CHECK(cps->confirm("/org/alopex/Link1/checkpoint/6"));
    for (int id : {1, 2, 3, 4, 5})
        CHECK_FALSE(cps->confirm(fmt::format("/org/alopex/Link1/checkpoint/{}", id)));
}

TEST_CASE("checkpoint store: at most max_checkpoints files are read back")
{
    Rig rig;
    uint64_t now = boottime_usec();
    for (uint64_t id = 1; id <= max_checkpoints + 2; ++id)
        rig.write(checkpoint_file_name(id), format_checkpoint(record(id, now + 60'000'000)));
    auto cps = rig.start();
    size_t kept = 0, aside = 0;
    for (const auto &e : rig.entries())
        (e.ends_with(".invalid") ? aside : kept)++;
    CHECK(kept == max_checkpoints);
    CHECK(aside == 2);
}
