#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes fuzz-rtnl seeds from real rtnetlink dumps. Run as root; it works in a network
# namespace of its own:  unshare --net /usr/bin/python3 make-seeds.py OUTDIR
import os
import socket
import struct
import subprocess
import sys

NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
NLMSG_DONE = 3


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def dump(msg_type, family_hdr):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    s.bind((0, 0))
    body = family_hdr
    s.send(struct.pack("=IHHII", 16 + len(body), msg_type, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
    msgs = []
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, typ = struct.unpack_from("=IH", data, off)
            if typ == NLMSG_DONE:
                s.close()
                return msgs, data[off:off + ln]
            msgs.append(data[off:off + ln])
            off += (ln + 3) & ~3


def pad(b):
    return b + b"\0" * (((len(b) + 3) & ~3) - len(b))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sh("ip link set lo up")
    sh("ip link add seedbr type bridge && ip link add seeda type veth peer name seedb")
    sh("ip link set seedb master seedbr && ip link set seeda up && ip link set seedb up && ip link set seedbr up")
    sh("ip addr add 192.0.2.1/24 dev seeda && ip addr add 2001:db8::1/64 dev seeda nodad")
    sh("ip route add 198.51.100.0/24 via 192.0.2.2 metric 10 && ip route add 2001:db8:1::/48 via 2001:db8::2")
    links, done = dump(RTM_GETLINK, struct.pack("=BxHiII", 0, 0, 0, 0, 0))
    addrs, _ = dump(RTM_GETADDR, struct.pack("=BBBBI", 0, 0, 0, 0, 0))
    routes, _ = dump(RTM_GETROUTE, struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 0, 0))

    def write(name, b):
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)

    veth = [m for m in links if b"seeda\0" in m][0]
    write("link-veth", veth)
    write("addr-v4", [m for m in addrs if m[16] == socket.AF_INET and b"\xc0\x00\x02\x01" in m][0])
    write("addr-v6", [m for m in addrs if m[16] == socket.AF_INET6][0])
    write("route-v4-gw", [m for m in routes if m[16] == socket.AF_INET and b"\xc6\x33\x64\x00" in m][0])
    write("route-v6", [m for m in routes if m[16] == socket.AF_INET6][0])
    stream = b"".join(pad(m) for m in addrs[:3] + routes[:3]) + done
    write("stream-addr-route-done", stream)
    # Hostile: the veth message cut in its middle, and with nlmsg_len lying upwards.
    write("link-truncated", veth[: len(veth) // 2])
    write("link-len-lie", struct.pack("=I", len(veth) + 64) + veth[4:])
    # A DELLINK of the same link (type 17), then the route stream.
    dellink = veth[:4] + struct.pack("=H", 17) + veth[6:]
    write("dellink-then-stream", pad(dellink) + stream)


main()
