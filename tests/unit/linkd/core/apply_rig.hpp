// SPDX-License-Identifier: GPL-2.0-or-later
// Shared by the unit tests of linkd's apply code: a temporary directory, an event loop with
// a 1 ms ticker (netlink_peer.hpp), a Manager fed by hand (no monitor, an Executor that
// fails the test if called) and the ChangeQueue over an rtnl::AsyncClient whose peer is
// the test itself: it reads the requests and answers them when it chooses (or never: then
// they fail with ETIMEDOUT after `timeout`). Nothing reaches the kernel.
#pragma once

#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "alopex/sd.hpp"
#include "change_queue.hpp"
#include "manager.hpp"
#include "netlink_peer.hpp"
#include "rtnl/async_client.hpp"

namespace linkd_test {

namespace fs = std::filesystem;

struct ApplyRig : alopex::test::PeerLoop {
    fs::path dir;
    std::unique_ptr<alopex::linkd::Manager> manager;
    std::unique_ptr<alopex::linkd::rtnl::AsyncClient> requests;
    std::unique_ptr<alopex::linkd::ChangeQueue> queue;

    explicit ApplyRig(std::chrono::microseconds timeout = std::chrono::seconds(5))
    {
        std::string tmpl = (fs::temp_directory_path() / "linkd-apply-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()));
        dir = tmpl;
        alopex::linkd::ManagerOptions o;
        o.start_monitor = false;
        auto m = alopex::linkd::Manager::create(event.get(), nullptr, o,
                                                [](const alopex::linkd::rtnl::Request &, alopex::linkd::ExecDone) {
                                                    FAIL("no request may be made");
                                                });
        REQUIRE(m);
        manager = std::move(*m);
        auto c = alopex::linkd::rtnl::AsyncClient::create(event.get(), make_channel(), timeout);
        REQUIRE(c);
        requests = std::move(*c);
        auto q = alopex::linkd::ChangeQueue::create(event.get(), *requests);
        REQUIRE(q);
        queue = std::move(*q);
    }
    ~ApplyRig()
    {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    ApplyRig(const ApplyRig &) = delete;
    ApplyRig &operator=(const ApplyRig &) = delete;

    std::set<std::string> entries() const
    {
        std::set<std::string> out;
        for (const auto &e : fs::directory_iterator(dir))
            out.insert(e.path().filename().string());
        return out;
    }
    void write(const std::string &name, const std::string &text) const { std::ofstream(dir / name) << text; }
    std::string read(const std::string &name) const
    {
        std::ifstream in(dir / name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

inline uint64_t boottime_usec()
{
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

} // namespace linkd_test
