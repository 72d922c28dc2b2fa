#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""icmp_ping.py ADDRESS COUNT: ICMP echo through the kernel's own stack (a raw socket;
iputils' ping is not installed everywhere). An IPv6 ADDRESS (fe80::1%ppp0) uses ICMPv6,
whose checksum the kernel fills in. Prints one line per reply, "seq RTT_MS
same|different" (whether the data came back as sent), and exits 1 if any is missing."""
import os
import socket
import struct
import sys
import time


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'>{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ping(sock, dst, ident, seq, data):
    v6 = sock.family == socket.AF_INET6
    m = struct.pack('>BBHHH', 128 if v6 else 8, 0, 0, ident, seq) + data
    if not v6:
        m = m[:2] + struct.pack('>H', checksum(m)) + m[4:]
    t0 = time.monotonic()
    if v6:   # fe80::1%ppp0: the scope is the interface
        address, _, scope = dst.partition('%')
        target = (address, 0, 0, socket.if_nametoindex(scope) if scope else 0)
    else:
        target = (dst, 0)
    sock.sendto(m, target)
    while True:
        pkt, addr = sock.recvfrom(4096)
        ihl = 0 if v6 else (pkt[0] & 15) * 4   # a raw ICMPv6 socket gives no IP header
        t, _, _, i, q = struct.unpack('>BBHHH', pkt[ihl:ihl + 8])
        if addr[0].split('%')[0] == dst.split('%')[0] and t == (129 if v6 else 0) and i == ident and q == seq:
            return (time.monotonic() - t0) * 1000, pkt[ihl + 8:] == data


def main():
    dst, count = sys.argv[1], int(sys.argv[2])
    if ':' in dst:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(3)
    ident = os.getpid() & 0xffff
    ok = 0
    for seq in range(count):
        data = bytes((seq + i) & 0xff for i in range(56 + seq * 100))   # 56 .. bytes, 0x7e/0x7d too
        try:
            rtt, same = ping(sock, dst, ident, seq, data)
        except socket.timeout:
            print(f'{seq} timeout')
            continue
        print(f'{seq} {rtt:.3f} {"same" if same else "different"}')
        ok += same
    sys.exit(0 if ok == count else 1)


if __name__ == '__main__':
    main()
