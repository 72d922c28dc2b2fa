// SPDX-License-Identifier: GPL-2.0-or-later
// The line side of the PPP peers that stand in for pppd (tests/harness/ppp_tun_peer.cpp,
// bench/slirpd/bulk_peer.cpp): a pty end made raw, and writes that wait for a full line.
#pragma once

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace slirp_test {

inline void make_raw(int fd)
{
    termios t{};
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
}

// Writes all of `b` (waiting while the line is full) and empties it; false on an error.
inline bool write_all(int fd, std::vector<uint8_t> &b)
{
    size_t done = 0;
    while (done < b.size()) {
        ssize_t n = write(fd, b.data() + done, b.size() - done);
        if (n > 0) {
            done += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            pollfd p{fd, POLLOUT, 0};
            poll(&p, 1, 100);
        } else {
            return false;
        }
    }
    b.clear();
    return true;
}

} // namespace slirp_test
