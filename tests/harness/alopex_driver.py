# SPDX-License-Identifier: GPL-2.0-or-later
"""A test driver program on a socketpair: command lines in, event lines out (the C++ side
is tests/integration/common/driver_io.hpp). Used by the ovs-agentd and dnsd-controller
tests and benchmarks."""
import select
import socket
import time


class Driver:
    """A test program on a socketpair: commands in, event lines out."""

    def __init__(self, sb, name, argv):
        self.sock, theirs = socket.socketpair()
        self.proc = sb.spawn(name, argv, stdio=theirs.fileno())
        theirs.close()
        self.sock.setblocking(False)
        self.buf = b''
        self.lines = []

    def _read(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
        except BlockingIOError:
            pass
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            self.lines.append(line.decode())

    def expect(self, prefix, timeout=10):
        """The first line not taken yet that starts with `prefix` (earlier ones are dropped);
        waits on the socket, so the line is seen as soon as it is written."""
        deadline = time.monotonic() + timeout
        while True:
            self._read()
            for i, line in enumerate(self.lines):
                if line.startswith(prefix):
                    del self.lines[:i + 1]
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f'timed out after {timeout}s waiting for "{prefix}" from {self.proc.name}; '
                                   f'it said {self.lines[-10:]}')
            select.select([self.sock], [], [], left)

    def take(self, prefix):
        """Every line not taken yet that starts with `prefix` (taken now; others stay)."""
        self._read()
        got = [l for l in self.lines if l.startswith(prefix)]
        self.lines = [l for l in self.lines if not l.startswith(prefix)]
        return got

    def send(self, line):
        self.sock.setblocking(True)
        self.sock.sendall(line.encode() + b'\n')
        self.sock.setblocking(False)

    def ask(self, line, prefix, timeout=10):
        self.send(line)
        return self.expect(prefix, timeout)
