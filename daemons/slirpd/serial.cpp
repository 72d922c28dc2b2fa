// SPDX-License-Identifier: GPL-2.0-or-later
#include "serial.hpp"

#include <fcntl.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

namespace alopex::slirp {

Result<> configure_serial(int fd, const LineSettings &line)
{
    termios t{};
    if (tcgetattr(fd, &t) < 0)
        return failf(errno, "not a serial line (tcgetattr: {})", strerror(errno));
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | PARENB | HUPCL);
    if (line.hardware_flow)
        t.c_cflag |= CRTSCTS;
    else
        t.c_cflag &= ~static_cast<tcflag_t>(CRTSCTS);
    t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    speed_t speed = baud_constant(line.baud);
    if (speed == 0 || cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
        return failf(EINVAL, "baud rate {} is not supported", line.baud);
    if (tcsetattr(fd, TCSANOW, &t) < 0)
        return failf(errno, "tcsetattr: {}", strerror(errno));
    tcflush(fd, TCIOFLUSH);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return failf(errno, "cannot make the line non-blocking: {}", strerror(errno));
    return {};
}

} // namespace alopex::slirp
