// SPDX-License-Identifier: GPL-2.0-or-later
#include "command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "alopex/fd.hpp"
#include "alopex/log.hpp"
#include "alopex/sd.hpp"

extern char **environ;

namespace alopex::ovs {

namespace {
constexpr size_t max_output = 4096;
} // namespace

struct Command::Impl {
    pid_t pid = -1;
    Fd pidfd, out;
    EventSourcePtr out_source, exit_source, timer;
    std::string output, name;
    uint64_t timeout = 0;
    bool exited = false, eof = false;
    int status = 0;
    Done done;
};

std::vector<std::string> fill_command(const std::vector<std::string> &argv, const std::string &ifname,
                                      const std::string &vmid)
{
    std::vector<std::string> out;
    for (std::string a : argv) {
        for (auto [key, value] : {std::pair<std::string_view, const std::string &>{"{ifname}", ifname}, {"{vmid}", vmid}})
            for (size_t at = a.find(key); at != std::string::npos; at = a.find(key, at + value.size()))
                a.replace(at, key.size(), value);
        out.push_back(std::move(a));
    }
    return out;
}

Result<std::unique_ptr<Command>> Command::start(sd_event *event, const std::vector<std::string> &argv,
                                                uint64_t timeout_usec, Done done)
{
    if (argv.empty() || !argv[0].starts_with('/'))
        return failf(EINVAL, "the command must start with an absolute path");
    std::unique_ptr<Command> c(new Command());
    c->impl_ = std::make_unique<Impl>();
    Impl &s = *c->impl_;
    s.name = argv[0];
    s.timeout = timeout_usec;
    s.done = std::move(done);
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
        return failf(errno, "pipe: {}", strerror(errno));
    s.out = Fd(p[0]);
    Fd wr(p[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);   // the daemon blocks SIGTERM/SIGHUP for sd-event
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    int r = posix_spawn(&s.pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0)
        return failf(r, "{}: {}", argv[0], strerror(r));
    int pfd = static_cast<int>(syscall(SYS_pidfd_open, s.pid, 0));   // glibc 2.36 declares it without extern "C"
    if (pfd < 0) {
        int e = errno;
        kill(s.pid, SIGKILL);
        waitpid(s.pid, nullptr, 0);
        return failf(e, "pidfd_open: {}", strerror(e));
    }
    s.pidfd = Fd(pfd);
    sd_event_source *src = nullptr;
    Command *self = c.get();
    if ((r = sd_event_add_io(event, &src, s.out.get(), EPOLLIN, on_output, self)) >= 0) {
        s.out_source.reset(src);
        r = sd_event_add_io(event, &src, s.pidfd.get(), EPOLLIN, on_exit, self);
    }
    if (r >= 0) {
        s.exit_source.reset(src);
        uint64_t now = 0;
        sd_event_now(event, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(event, &src, CLOCK_MONOTONIC, now + timeout_usec, 10'000, on_timeout, self);
    }
    if (r < 0) {
        kill(s.pid, SIGKILL);
        waitpid(s.pid, nullptr, 0);
        s.pid = -1;
        return failf(-r, "event sources: {}", strerror(-r));
    }
    s.timer.reset(src);
    return c;
}

Command::~Command()
{
    if (impl_ && impl_->pid > 0) {
        kill(impl_->pid, SIGKILL);
        waitpid(impl_->pid, nullptr, 0);
    }
}

void Command::finish(Result<std::string> r)
{
    Impl &s = *impl_;
    s.out_source.reset();
    s.exit_source.reset();
    s.timer.reset();
    if (s.pid > 0) {
        kill(s.pid, SIGKILL);
        waitpid(s.pid, nullptr, 0);
        s.pid = -1;
    }
    if (auto done = std::exchange(s.done, nullptr))
        done(std::move(r));   // may destroy this Command
}

// Both the exit and the end of the output seen: the first line, if the command succeeded.
void Command::reap()
{
    Impl &s = *impl_;
    if (!s.exited || !s.eof)
        return;
    if (!WIFEXITED(s.status) || WEXITSTATUS(s.status) != 0) {
        finish(failf(EIO, "{} {}", s.name,
                     WIFEXITED(s.status) ? fmt::format("exited with status {}", WEXITSTATUS(s.status))
                                         : fmt::format("was killed by signal {}", WTERMSIG(s.status))));
        return;
    }
    std::string line = s.output.substr(0, s.output.find('\n'));
    if (line.empty()) {
        finish(failf(EIO, "{} printed nothing", s.name));
        return;
    }
    finish(std::move(line));
}

int Command::on_output(sd_event_source *, int fd, uint32_t, void *userdata) noexcept
{
    auto *c = static_cast<Command *>(userdata);
    Impl &s = *c->impl_;
    char buf[1024];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            s.eof = true;
            s.out_source.reset();
            c->reap();
            return 0;
        }
        s.output.append(buf, static_cast<size_t>(n));
        if (s.output.size() > max_output) {
            c->finish(failf(EMSGSIZE, "{} printed more than {} bytes", s.name, max_output));
            return 0;
        }
    }
}

int Command::on_exit(sd_event_source *, int, uint32_t, void *userdata) noexcept
{
    auto *c = static_cast<Command *>(userdata);
    Impl &s = *c->impl_;
    if (waitpid(s.pid, &s.status, WNOHANG) != s.pid)
        return 0;
    s.pid = -1;   // reaped: never signalled again
    s.exited = true;
    s.exit_source.reset();
    c->reap();
    return 0;
}

int Command::on_timeout(sd_event_source *, uint64_t, void *userdata) noexcept
{
    auto *c = static_cast<Command *>(userdata);
    c->finish(failf(ETIMEDOUT, "{} did not finish within {} ms", c->impl_->name, c->impl_->timeout / 1000));
    return 0;
}

} // namespace alopex::ovs
