// SPDX-License-Identifier: GPL-2.0-or-later
// bench-measure: the timing half of the linkd benchmarks (bench/linkd_start,
// bench/linkd_profiles). The Python drivers build the world (namespaces, private bus,
// links, config files); this program starts the thing under test and watches the kernel
// and sd_notify, so the clock is read in C++ right where the events arrive.
//
//   bench-measure ready [--timeout S] -- CMD...
//       Starts CMD with NOTIFY_SOCKET set to a datagram socket it owns; on READY=1 reads
//       VmRSS/VmHWM of CMD from /proc, stops CMD (SIGTERM) and prints
//       `ready_ms=.. rss_kb=.. hwm_kb=..` and, on a second line, `STATUS=` the last
//       status text CMD sent (with --notify in addrs mode too). With --started PREFIX
//       it then waits on for a STATUS= that starts with PREFIX (the end of a staged
//       start: alopex-linkd's Startup) and adds `started_ms=.. started_rss_kb=..
//       started_hwm_kb=..`, read then.
//   bench-measure addrs --dev IF|all --count N [--family inet|inet6] [--timeout S]
//                       (--signal PID | [--daemon] [--notify] -- CMD...)
//       Subscribes to rtnetlink address events, then (t0) sends SIGHUP to PID or starts
//       CMD, and counts the distinct addresses of that family on IF, or on every link
//       but lo with `--dev all` (RTM_NEWADDR adds, RTM_DELADDR removes) until there
//       are N; verifies N with a dump. Prints
//       `ms=.. dump=..` (+ `exit_ms=..` when CMD exited by itself, `ready_ms=..` with
//       --notify). --daemon: CMD keeps running and is stopped with SIGTERM afterwards;
//       otherwise CMD must exit 0 (like ip -batch).
//   --log FILE (both modes): CMD's stdout and stderr are appended to FILE (else CMD's
//       stdout goes to stderr, so that stdout carries only the result).
// Exit status 0 on success; 1 with a message on stderr otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string &msg)
{
    fmt::print(stderr, "bench-measure: {}\n", msg);
    std::exit(1);
}

double ms_since(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Options {
    std::string mode, dev, family = "inet", log, started;
    size_t count = 0;
    double timeout = 60;
    pid_t signal_pid = 0;
    bool daemon = false, notify = false;
    std::vector<std::string> cmd;
};

Options parse(int argc, char **argv)
{
    Options o;
    if (argc < 2)
        die("usage: bench-measure ready|addrs [options] -- CMD...");
    o.mode = argv[1];
    if (o.mode != "ready" && o.mode != "addrs")
        die("mode must be ready or addrs");
    int i = 2;
    auto value = [&](const char *name) -> std::string {
        if (i + 1 >= argc)
            die(fmt::format("{} needs a value", name));
        return argv[++i];
    };
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            for (++i; i < argc; ++i)
                o.cmd.emplace_back(argv[i]);
            break;
        }
        if (a == "--dev")
            o.dev = value("--dev");
        else if (a == "--count")
            o.count = std::strtoul(value("--count").c_str(), nullptr, 10);
        else if (a == "--family")
            o.family = value("--family");
        else if (a == "--timeout")
            o.timeout = std::strtod(value("--timeout").c_str(), nullptr);
        else if (a == "--signal")
            o.signal_pid = static_cast<pid_t>(std::strtol(value("--signal").c_str(), nullptr, 10));
        else if (a == "--log")
            o.log = value("--log");
        else if (a == "--daemon")
            o.daemon = true;
        else if (a == "--notify")
            o.notify = true;
        else if (a == "--started")
            o.started = value("--started");
        else
            die(fmt::format("unknown option {}", a));
    }
    if (o.mode == "ready")
        o.notify = o.daemon = true;
    if (o.mode == "addrs" && (o.dev.empty() || o.count == 0))
        die("addrs needs --dev and --count");
    if (o.family != "inet" && o.family != "inet6")
        die("--family is inet or inet6");
    if (o.cmd.empty() == (o.signal_pid == 0 || o.mode == "ready"))
        die("give either --signal PID or -- CMD (ready needs CMD)");
    if (o.timeout <= 0)
        die("bad --timeout");
    return o;
}

// ---- the process under test -------------------------------------------------------

struct Child {
    pid_t pid = 0;
    int pidfd = -1;
    std::optional<int> status;   // set once reaped
    double exit_ms = -1;
};

Child spawn(const std::vector<std::string> &cmd, const std::string &notify_path, const std::string &log)
{
    std::vector<std::string> env_s;
    for (char **e = environ; *e; ++e) {
        std::string_view v(*e);
        if (v.starts_with("NOTIFY_SOCKET=") || v.starts_with("WATCHDOG_USEC=") || v.starts_with("WATCHDOG_PID="))
            continue;
        env_s.emplace_back(v);
    }
    if (!notify_path.empty())
        env_s.push_back("NOTIFY_SOCKET=" + notify_path);
    std::vector<char *> envp, argv;
    for (auto &s : env_s)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = cmd;
    for (auto &s : args)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    // CMD's output never reaches our stdout (the result line): to --log, else to stderr.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!log.empty())
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    else
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
    if (!log.empty())
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    Child c;
    int rc = posix_spawnp(&c.pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die(fmt::format("cannot run {}: {}", cmd[0], std::strerror(rc)));
    c.pidfd = static_cast<int>(syscall(SYS_pidfd_open, c.pid, 0));
    if (c.pidfd < 0)
        die(fmt::format("pidfd_open: {}", std::strerror(errno)));
    return c;
}

void reap(Child &c, Clock::time_point t0)
{
    int st = 0;
    if (c.status || waitpid(c.pid, &st, WNOHANG) != c.pid)
        return;
    c.status = st;
    c.exit_ms = ms_since(t0);
}

void stop(Child &c)
{
    if (c.pid == 0 || c.status)
        return;
    kill(c.pid, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    int st = 0;
    while (waitpid(c.pid, &st, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, &st, 0);
            break;
        }
        pollfd p{c.pidfd, POLLIN, 0};
        poll(&p, 1, 100);
    }
    c.status = st;
}

std::string describe_status(int st)
{
    if (WIFEXITED(st))
        return fmt::format("exited {}", WEXITSTATUS(st));
    return fmt::format("killed by signal {}", WTERMSIG(st));
}

long status_kb(pid_t pid, const char *key)
{
    std::ifstream f(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key, 0) == 0)
            return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
    return -1;
}

// ---- sd_notify ------------------------------------------------------------------------

struct Notify {
    int fd = -1;
    std::string path;
    std::string status;   // the last STATUS= seen
    std::string started_prefix;
    bool started = false;  // a STATUS= starting with started_prefix came after READY=1
    bool ready = false;

    void open()
    {
        const char *tmp = getenv("TMPDIR");
        path = fmt::format("{}/bench-measure-{}.notify", tmp && *tmp ? tmp : "/tmp", getpid());
        unlink(path.c_str());
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        if (fd < 0 || path.size() >= sizeof sa.sun_path)
            die("cannot create the notify socket");
        std::memcpy(sa.sun_path, path.c_str(), path.size());
        if (bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0)
            die(fmt::format("bind {}: {}", path, std::strerror(errno)));
        chmod(path.c_str(), 0666);   // daemons that drop privileges (networkd) send too
    }
    // Reads every queued datagram; true when one of them carried READY=1.
    bool drain()
    {
        char buf[4096];
        bool got = false;
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
            if (n < 0)
                return got;
            std::string_view msg(buf, static_cast<size_t>(n));
            size_t pos = 0;
            while (pos <= msg.size()) {
                size_t end = msg.find('\n', pos);
                if (end == std::string_view::npos)
                    end = msg.size();
                auto line = msg.substr(pos, end - pos);
                if (line == "READY=1") {
                    got = ready = true;
                } else if (line.starts_with("STATUS=")) {
                    status = line.substr(7);
                    started |= ready && !started_prefix.empty() && status.starts_with(started_prefix);
                }
                pos = end + 1;
            }
        }
    }
    ~Notify()
    {
        if (fd >= 0) {
            close(fd);
            unlink(path.c_str());
        }
    }
};

// ---- rtnetlink -----------------------------------------------------------------------

struct AddrWatch {
    int ifindex = 0;   // 0: every link but lo (ifindex 1 in a network namespace)
    int family = AF_INET;
    std::set<std::string> seen;
    bool overrun = false;
};

int on_addr(const nlmsghdr *nlh, void *data)
{
    auto *w = static_cast<AddrWatch *>(data);
    if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
        return MNL_CB_OK;
    auto *ifa = static_cast<const ifaddrmsg *>(mnl_nlmsg_get_payload(nlh));
    int index = static_cast<int>(ifa->ifa_index);
    if (ifa->ifa_family != w->family || (w->ifindex ? index != w->ifindex : index == 1))
        return MNL_CB_OK;
    const void *addr = nullptr;
    auto *tail = static_cast<const char *>(mnl_nlmsg_get_payload_tail(nlh));
    for (auto *attr = static_cast<const nlattr *>(mnl_nlmsg_get_payload_offset(nlh, sizeof(*ifa)));
         mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char *>(attr))); attr = mnl_attr_next(attr)) {
        auto type = mnl_attr_get_type(attr);
        if (type == IFA_LOCAL || (type == IFA_ADDRESS && !addr))
            addr = mnl_attr_get_payload(attr);
    }
    if (!addr)
        return MNL_CB_OK;
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(w->family, addr, text, sizeof text);
    std::string key = fmt::format("{}/{}%{}", text, ifa->ifa_prefixlen, index);
    if (nlh->nlmsg_type == RTM_NEWADDR)
        w->seen.insert(key);
    else
        w->seen.erase(key);
    return MNL_CB_OK;
}

mnl_socket *open_rtnl(unsigned groups)
{
    mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!nl)
        die(fmt::format("netlink socket: {}", std::strerror(errno)));
    int size = 32 << 20;
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0)
        die(fmt::format("netlink bind: {}", std::strerror(errno)));
    return nl;
}

// The addresses of the family on the link, by a fresh dump.
std::set<std::string> dump_addrs(int ifindex, int family)
{
    mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
        die("netlink dump socket");
    static char buf[64 * 1024];
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = 1;
    auto *ifa = static_cast<ifaddrmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = static_cast<unsigned char>(family);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        die("netlink dump send");
    AddrWatch w{ifindex, family, {}, false};
    unsigned portid = mnl_socket_get_portid(nl);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0)
            die(fmt::format("netlink dump: {}", std::strerror(errno)));
        int r = mnl_cb_run(buf, static_cast<size_t>(n), 1, portid, on_addr, &w);
        if (r == MNL_CB_STOP)
            break;
        if (r < 0)
            die(fmt::format("netlink dump: {}", std::strerror(errno)));
    }
    mnl_socket_close(nl);
    return w.seen;
}

// Reads every queued event; on an overrun the count is rebuilt from a dump.
void read_events(mnl_socket *nl, AddrWatch &w)
{
    static char buf[256 * 1024];
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == ENOBUFS) {
                w.overrun = true;
                w.seen = dump_addrs(w.ifindex, w.family);
                continue;
            }
            die(fmt::format("netlink events: {}", std::strerror(errno)));
        }
        mnl_cb_run(buf, static_cast<size_t>(n), 0, 0, on_addr, &w);
    }
}

} // namespace

int main(int argc, char **argv)
{
    Options o = parse(argc, argv);
    signal(SIGPIPE, SIG_IGN);

    Notify notify;
    if (o.notify)
        notify.open();
    notify.started_prefix = o.started;
    mnl_socket *nl = nullptr;
    AddrWatch w;
    if (o.mode == "addrs") {
        w.ifindex = o.dev == "all" ? 0 : static_cast<int>(if_nametoindex(o.dev.c_str()));
        if (w.ifindex == 0 && o.dev != "all")
            die(fmt::format("no link {}", o.dev));
        w.family = o.family == "inet" ? AF_INET : AF_INET6;
        nl = open_rtnl(w.family == AF_INET ? RTMGRP_IPV4_IFADDR : RTMGRP_IPV6_IFADDR);
        if (size_t have = dump_addrs(w.ifindex, w.family).size(); have != 0)
            die(fmt::format("{} already has {} addresses; the driver must clear them first", o.dev, have));
    }

    auto t0 = Clock::now();
    Child child;
    if (o.cmd.empty()) {
        if (kill(o.signal_pid, SIGHUP) < 0)
            die(fmt::format("kill -HUP {}: {}", o.signal_pid, std::strerror(errno)));
    } else {
        child = spawn(o.cmd, o.notify ? notify.path : "", o.log);
    }
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));
    double ready_ms = -1, addrs_ms = -1, started_ms = -1;
    long rss = -1, hwm = -1, started_rss = -1, started_hwm = -1;
    auto done = [&] {
        return (!o.notify || ready_ms >= 0) && (o.mode != "addrs" || addrs_ms >= 0) &&
               (o.started.empty() || started_ms >= 0);
    };
    while (!done()) {
        std::vector<pollfd> fds;
        if (o.notify)
            fds.push_back({notify.fd, POLLIN, 0});
        if (nl)
            fds.push_back({mnl_socket_get_fd(nl), POLLIN, 0});
        if (child.pid && !child.status)
            fds.push_back({child.pidfd, POLLIN, 0});
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            stop(child);
            die(fmt::format("timed out after {} s ({} of {} addresses seen, READY {})", o.timeout, w.seen.size(),
                            o.count, ready_ms >= 0 ? "seen" : "not seen"));
        }
        if (poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR)
            die(fmt::format("poll: {}", std::strerror(errno)));
        if (o.notify && ready_ms < 0 && notify.drain()) {
            ready_ms = ms_since(t0);
            rss = status_kb(child.pid, "VmRSS:");
            hwm = status_kb(child.pid, "VmHWM:");
        } else if (o.notify) {
            notify.drain();
        }
        if (notify.started && started_ms < 0) {
            started_ms = ms_since(t0);
            started_rss = status_kb(child.pid, "VmRSS:");
            started_hwm = status_kb(child.pid, "VmHWM:");
        }
        if (nl && addrs_ms < 0) {
            read_events(nl, w);
            if (w.seen.size() >= o.count)
                addrs_ms = ms_since(t0);
        }
        if (child.pid && !child.status) {
            reap(child, t0);
            bool clean_exit = child.status && WIFEXITED(*child.status) && WEXITSTATUS(*child.status) == 0;
            if (child.status && (o.daemon || !clean_exit))
                die(fmt::format("{} {} before the end of the measurement", o.cmd[0], describe_status(*child.status)));
        }
    }

    std::string out;
    if (o.notify)
        out += fmt::format("ready_ms={:.3f} rss_kb={} hwm_kb={} ", ready_ms, rss, hwm);
    if (!o.started.empty())
        out += fmt::format("started_ms={:.3f} started_rss_kb={} started_hwm_kb={} ", started_ms, started_rss,
                           started_hwm);
    if (o.mode == "addrs") {
        size_t dumped = dump_addrs(w.ifindex, w.family).size();
        if (dumped != o.count)
            die(fmt::format("the events counted {} addresses but a dump finds {}", w.seen.size(), dumped));
        out += fmt::format("ms={:.3f} dump={} overrun={} ", addrs_ms, dumped, w.overrun ? 1 : 0);
    }
    if (child.pid) {
        if (o.daemon) {
            stop(child);
        } else {
            while (!child.status) {
                pollfd p{child.pidfd, POLLIN, 0};
                poll(&p, 1, 1000);
                reap(child, t0);
            }
            if (!WIFEXITED(*child.status) || WEXITSTATUS(*child.status) != 0)
                die(fmt::format("{} {}", o.cmd[0], describe_status(*child.status)));
            out += fmt::format("exit_ms={:.3f} ", child.exit_ms);
        }
    }
    if (nl)
        mnl_socket_close(nl);
    fmt::print("{}\n", out.substr(0, out.size() - 1));
    if (o.notify)
        fmt::print("STATUS={}\n", notify.status);
    return 0;
}
