// SPDX-License-Identifier: GPL-2.0-or-later
// Shared by the unit tests of linkd's apply code that touch files: a temporary directory,
// an event loop and a Manager fed by hand (no monitor, an Executor that fails the test if
// called) with an rtnl::Client that must stay unused: the tests keep the kernel state
// empty, so nothing ever reaches the kernel.
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
#include "manager.hpp"
#include "rtnl/rtnl.hpp"

namespace linkd_test {

namespace fs = std::filesystem;

struct ApplyRig {
    fs::path dir;
    alopex::EventPtr event;
    std::unique_ptr<alopex::linkd::Manager> manager;
    std::unique_ptr<alopex::linkd::rtnl::Client> client;

    ApplyRig()
    {
        std::string tmpl = (fs::temp_directory_path() / "linkd-apply-XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()));
        dir = tmpl;
        sd_event *raw = nullptr;
        REQUIRE(sd_event_new(&raw) >= 0);
        event.reset(raw);
        alopex::linkd::ManagerOptions o;
        o.start_monitor = false;
        auto m = alopex::linkd::Manager::create(event.get(), nullptr, o,
                                                [](const alopex::linkd::rtnl::Request &, alopex::linkd::ExecDone) {
                                                    FAIL("no request may be made");
                                                });
        REQUIRE(m);
        manager = std::move(*m);
        auto c = alopex::linkd::rtnl::Client::open();
        REQUIRE(c);
        client = std::move(*c);
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
