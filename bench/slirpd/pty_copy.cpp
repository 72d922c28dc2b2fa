// SPDX-License-Identifier: GPL-2.0-or-later
// bench-pty-copy BYTES: the raw copy rate of a pty pair (both ends raw, as slirpd and its
// peer have them): one process writes BYTES into the master in 64 KiB writes, another
// reads them from the slave; prints "pty-copy BYTES SECONDS" (wall clock, from the first
// write to the last byte read). The ceiling slirpd's bulk transfer is compared with.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "line_io.hpp"

namespace {

double now()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench-pty-copy BYTES\n");
        return 2;
    }
    size_t total = std::strtoull(argv[1], nullptr, 10);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
        return 1;
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    if (slave < 0)
        return 1;
    slirp_test::make_raw(master);
    slirp_test::make_raw(slave);
    int go[2];
    if (pipe(go) < 0)
        return 1;
    pid_t reader = fork();
    if (reader == 0) {
        std::vector<char> buf(1 << 16);
        size_t got = 0;
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        while (got < total) {
            ssize_t n = read(slave, buf.data(), buf.size());
            if (n <= 0)
                _exit(1);
            got += static_cast<size_t>(n);
        }
        _exit(0);
    }
    std::vector<char> buf(1 << 16, 'x');
    double t0 = now();
    if (write(go[1], "g", 1) != 1)
        return 1;
    size_t sent = 0;
    while (sent < total) {
        ssize_t n = write(master, buf.data(), std::min(buf.size(), total - sent));
        if (n <= 0)
            return 1;
        sent += static_cast<size_t>(n);
    }
    int st = 0;
    waitpid(reader, &st, 0);
    double t = now() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    std::printf("pty-copy %zu %.6f\n", total, t);
    return 0;
}
