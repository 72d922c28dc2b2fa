// SPDX-License-Identifier: GPL-2.0-or-later
// Where a full apply's time goes: parse firewall.toml, compile it, and Session::apply
// (dump of our table + encoding + the kernel's batch), each timed over --runs rounds,
// alternating between two files (a Reload's shape) or one (re-apply). Run it as root in
// a scratch network namespace: `unshare -n bench-fwd-apply-phases a.toml [b.toml] [runs]`.
// It creates and finally deletes table inet alopex there.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <systemd/sd-event.h>

#include "alopex/sd.hpp"
#include "compile/compile.hpp"
#include "config/config.hpp"
#include "nft/session.hpp"

using namespace alopex;
using namespace alopex::fwd;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
        .count();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        fmt::print(stderr, "usage: {} a.toml [b.toml] [runs]\n", argv[0]);
        return 2;
    }
    std::vector<std::string> files{argv[1]};
    if (argc > 2)
        files.emplace_back(argv[2]);
    int runs = argc > 3 ? std::atoi(argv[3]) : 5;
    sd_event *ev = nullptr;
    if (int r = sd_event_new(&ev); r < 0) {
        fmt::print(stderr, "sd_event_new: {}\n", strerror(-r));
        return 1;
    }
    EventPtr event(ev);
    auto session = nft::Session::open(ev);
    if (!session) {
        fmt::print(stderr, "{}\n", session.error().to_string());
        return 1;
    }
    fmt::print("{:>4} {:>10} {:>10} {:>10}  (ms)\n", "run", "parse", "compile", "apply");
    for (int i = 0; i <= runs; ++i) {
        const std::string &f = files[static_cast<size_t>(i) % files.size()];
        auto t0 = std::chrono::steady_clock::now();
        auto model = config::load(f);
        double parse = ms_since(t0);
        if (!model) {
            fmt::print(stderr, "{}\n", model.error().to_string());
            return 1;
        }
        compile::Dynamic dyn;
        t0 = std::chrono::steady_clock::now();
        auto rs = compile::compile(*model, dyn);
        double comp = ms_since(t0);
        if (!rs) {
            fmt::print(stderr, "{}\n", rs.error().to_string());
            return 1;
        }
        t0 = std::chrono::steady_clock::now();
        // The apply completes through its callback: the loop runs until then.
        std::optional<Result<>> r;
        (*session)->apply(std::move(*rs), [&](Result<> x) { r = std::move(x); });
        while (!r && sd_event_run(ev, UINT64_MAX) >= 0) {
        }
        if (!r)
            r = fail(EIO, "the event loop failed");
        double apply = ms_since(t0);
        if (!*r) {
            fmt::print(stderr, "{}\n", r->error().to_string());
            return 1;
        }
        fmt::print("{:>4} {:>10.1f} {:>10.1f} {:>10.1f}{}\n", i, parse, comp, apply,
                   i == 0 ? "  (into an empty kernel)" : "");
    }
    return 0;
}
