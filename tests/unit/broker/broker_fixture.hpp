// SPDX-License-Identifier: GPL-2.0-or-later
// A broker.toml, managed targets and a state directory in a fresh temp directory, for
// the Broker's operation tests; TempDir for the others.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "alopex/ledger.hpp"
#include "alopex/log.hpp"

namespace alopex::test {

// The journal lines of every call are exercised but kept off the test output.
[[maybe_unused]] inline const bool quiet = (log::set_level(log::Level::err), true);

// A fresh directory under /tmp, removed with everything in it.
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        char tmpl[] = "/tmp/alopex-broker-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

struct Fixture {
    std::filesystem::path dir;
    uid_t me = getuid();
    uid_t other = getuid() + 1;

    Fixture()
    {
        char tmpl[] = "/tmp/alopex-brokerops-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        dir = tmpl;
        std::filesystem::create_directory(dir / "state");
        write_config("");
        std::ofstream(dir / "interfaces") << "auto lo\n# BEGIN ovs\nold\n# END ovs\n"
                                          << "# BEGIN other\nkept\n# END other\n";
        std::ofstream(dir / "regular") << "not a device";
    }
    ~Fixture() { std::filesystem::remove_all(dir); }

    // `extra` goes at the end, `limits` into [limits].
    void write_config(const std::string &extra, const std::string &limits = "")
    {
        std::ofstream(dir / "broker.toml", std::ios::trunc)
            << "[limits]\nmax_contents = 64\n" << limits
            << "[[file]]\nid = \"resolv.conf\"\npath = \"" << (dir / "resolv.conf").string()
            << "\"\ncallers = [" << me << "]\nmode = \"0640\"\n"
            << "[[file]]\nid = \"unbound\"\npath = \"" << (dir / "unbound.conf").string()
            << "\"\ncallers = [" << me << "]\nvalidator = \"unbound\"\n"
            << "[[block]]\nid = \"interfaces\"\npath = \"" << (dir / "interfaces").string()
            << "\"\ntag = \"ovs\"\nvalidator = \"interfaces\"\ncallers = [" << me << "]\n"
            << "[[device]]\nglob = \"/dev/nul?\"\ncallers = [" << me << "]\n"
            << "[[device]]\nglob = \"" << dir.string() << "/reg*\"\ncallers = [" << me << "]\n"
            << "[ovsdb]\nsocket = \"" << (dir / "db.sock").string() << "\"\ncallers = [" << me
            << "]\n"
            << "[record]\ncallers = [" << me << "]\n"
            << extra;
    }
    std::string slurp(const std::string &name)
    {
        std::ifstream in(dir / name, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::vector<ledger::Record> records()
    {
        if (!std::filesystem::exists(dir / "state" / "ledger.jsonl"))
            return {};
        auto r = ledger::read_file(dir / "state" / "ledger.jsonl");
        REQUIRE(r);
        return *r;
    }
    uint64_t ledger_records()
    {
        auto v = ledger::verify_file(dir / "state" / "ledger.jsonl");
        if (!v)
            return 0;
        REQUIRE(v->ok);
        return v->records;
    }
};

} // namespace alopex::test
