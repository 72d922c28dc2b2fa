// SPDX-License-Identifier: GPL-2.0-or-later
// The termios of slirpd's serial line, pure of the event loop (unit-tested on a pty).
#pragma once

#include "alopex/error.hpp"
#include "settings.hpp"

namespace alopex::slirp {

// A serial line for PPP: raw 8N1 (cfmakeraw), the receiver on, modem control lines
// ignored (CLOCAL, no hangup on close), the baud rate, RTS/CTS or no flow control (never
// XON/XOFF), reads returning what is there (VMIN 1, VTIME 0), stale input flushed,
// non-blocking. Only termios calls: no modem-control ioctls (TIOCMGET/TIOCMSET), which a
// USB gadget line (ttyGS0) does not have.
Result<> configure_serial(int fd, const LineSettings &line);

} // namespace alopex::slirp
