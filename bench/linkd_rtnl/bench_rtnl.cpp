// SPDX-License-Identifier: GPL-2.0-or-later
// Benchmark: one IPv4 address on each of 1,000 veths, applied by rtnl::AsyncClient as
// linkd sends them (one batch, pipelined ACKs, read from an event loop) against `ip -batch` with the same adds (one request and one ACK
// at a time), in one run, in a private network namespace with IPv6 off. Prints the
// medians and the ratio ours / ip -batch.
#include <fcntl.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <optional>

#include <systemd/sd-event.h>

#include "alopex/sd.hpp"
#include "async_client.hpp"

extern char **environ;

using namespace alopex::linkd::rtnl;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string &msg)
{
    fmt::print(stderr, "bench-linkd-rtnl: {}\n", msg);
    std::exit(1);
}

// What linkd does with a batch: opens its client on an event loop, submits, and takes the
// answers from the loop (run here until they are in).
std::vector<alopex::Result<>> send_all(std::vector<Request> requests)
{
    sd_event *raw = nullptr;
    if (int r = sd_event_new(&raw); r < 0)
        die(fmt::format("sd_event_new: {}", std::strerror(-r)));
    alopex::EventPtr event(raw);
    auto c = AsyncClient::open(raw);
    if (!c)
        die(c.error().message);
    std::optional<alopex::Result<std::vector<alopex::Result<>>>> got;
    (*c)->submit(std::move(requests), [&got](auto r) { got = std::move(r); });
    while (!got)
        if (int r = sd_event_run(raw, UINT64_MAX); r < 0)
            die(fmt::format("sd_event_run: {}", std::strerror(-r)));
    if (!*got)
        die(got->error().message);
    return std::move(**got);
}

int spawn(std::vector<std::string> args, bool quiet = false)
{
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die(fmt::format("cannot run {}: {}", args[0], std::strerror(rc)));
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            die("waitpid failed");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// Only lo here (and the benchmark's own links from an interrupted run)?
bool private_netns()
{
    std::vector<std::string> names;
    if (auto *ni = if_nameindex()) {
        for (auto *p = ni; p->if_index; ++p)
            names.emplace_back(p->if_name);
        if_freenameindex(ni);
    }
    return std::all_of(names.begin(), names.end(), [](const std::string &n) {
        return n == "lo" || n.rfind("bv", 0) == 0 || n.rfind("bp", 0) == 0;
    });
}

std::string write_batch(const std::string &name, const std::vector<std::string> &lines)
{
    std::string path = fmt::format("/tmp/bench-linkd-rtnl-{}-{}.batch", getpid(), name);
    std::ofstream f(path);
    for (auto &l : lines)
        f << l << '\n';
    if (!f)
        die("cannot write " + path);
    return path;
}

std::string address_of(int i) { return fmt::format("10.{}.{}.1", 100 + i / 250, i % 250); }

size_t count_ipv4()
{
    FILE *p = popen("ip -4 -o addr show | grep -c ' bv'", "r");
    if (!p)
        die("popen failed");
    char buf[64] = {};
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    pclose(p);
    return n ? std::strtoul(buf, nullptr, 10) : 0;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

} // namespace

int main(int argc, char **argv)
{
    int links = 1000, runs = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--links")
            links = std::atoi(argv[i + 1]);
        else if (std::string(argv[i]) == "--runs")
            runs = std::atoi(argv[i + 1]);
        else
            die(fmt::format("usage: {} [--links N] [--runs N]", argv[0]));
    }
    if (links < 1 || links > 50000 || runs < 1)
        die("bad --links or --runs");
    if (!private_netns()) {
        if (getenv("ALOPEX_BENCH_IN_NETNS"))
            die("still not in a private network namespace");
        setenv("ALOPEX_BENCH_IN_NETNS", "1", 1);
        std::vector<char *> args{const_cast<char *>("unshare"), const_cast<char *>("--net")};
        for (int i = 0; i < argc; ++i)
            args.push_back(argv[i]);
        args.push_back(nullptr);
        execvp("unshare", args.data());
        die(fmt::format("cannot re-execute under unshare --net: {}", std::strerror(errno)));
    }

    spawn({"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"});
    std::vector<std::string> create, add, del;
    for (int i = 0; i < links; ++i) {
        create.push_back(fmt::format("link add bv{} type veth peer name bp{}", i, i));
        add.push_back(fmt::format("addr add {}/24 dev bv{}", address_of(i), i));
        del.push_back(fmt::format("addr del {}/24 dev bv{}", address_of(i), i));
    }
    auto create_path = write_batch("create", create), add_path = write_batch("add", add),
         del_path = write_batch("del", del);
    if (spawn({"ip", "-batch", create_path}) != 0)
        die("ip -batch could not create the veth pairs");

    std::vector<Request> requests;
    for (int i = 0; i < links; ++i) {
        Request r;
        r.op = Request::Op::AddAddress;
        r.address = {.ifindex = static_cast<int>(if_nametoindex(fmt::format("bv{}", i).c_str())),
                     .family = AF_INET,
                     .address = alopex::net::Address::parse(address_of(i)).value(),
                     .prefixlen = 24};
        r.what = fmt::format("address {}/24 on bv{}", address_of(i), i);
        requests.push_back(std::move(r));
    }

    auto clean = [&] {
        if (spawn({"ip", "-batch", del_path}) != 0 || count_ipv4() != 0)
            die("cleanup between runs failed");
    };
    std::vector<double> ours, theirs;
    for (int run = 0; run < runs; ++run) {
        for (int which = 0; which < 2; ++which) {
            bool ours_now = (which == 0) == (run % 2 == 0);   // alternate who goes first
            auto t0 = Clock::now();
            if (ours_now) {
                for (auto &one : send_all(requests))
                    if (!one)
                        die(one.error().message);
            } else if (spawn({"ip", "-batch", add_path}) != 0) {
                die("ip -batch add failed");
            }
            double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            if (count_ipv4() != static_cast<size_t>(links))
                die(fmt::format("{} left {} addresses, not {}", ours_now ? "AsyncClient" : "ip -batch", count_ipv4(),
                                links));
            (ours_now ? ours : theirs).push_back(ms);
            clean();
        }
    }
    spawn({"ip", "-batch", write_batch("cleanup", [&] {
               std::vector<std::string> v;
               for (int i = 0; i < links; ++i)
                   v.push_back(fmt::format("link del bv{}", i));
               return v;
           }())});
    for (auto *p : {&create_path, &add_path, &del_path})
        unlink(p->c_str());
    unlink(fmt::format("/tmp/bench-linkd-rtnl-{}-cleanup.batch", getpid()).c_str());

    auto list = [](const std::vector<double> &v) {
        std::string s;
        for (double x : v)
            s += fmt::format(" {:.1f}", x);
        return s;
    };
    double m_ours = median(ours), m_ip = median(theirs);
    fmt::print("linkd-rtnl: {} IPv4 address adds on {} veths, {} runs (times in ms, each verified with ip)\n",
               links, links, runs);
    fmt::print("  rtnl::AsyncClient   median {:8.2f}  runs:{}\n", m_ours, list(ours));
    fmt::print("  ip -batch          median {:8.2f}  runs:{}\n", m_ip, list(theirs));
    fmt::print("  ratio ours / ip -batch: {:.3f}\n", m_ours / m_ip);
    return 0;
}
