// SPDX-License-Identifier: GPL-2.0-or-later
// Writes the fuzz-dhcp-packet seeds: replies shaped like dnsmasq's (options in its order),
// a NAK, an overloaded reply, and a frame with IPv4/UDP headers.
#include <cstdio>
#include <fstream>
#include <string>

#include "ipudp.hpp"
#include "packet.hpp"

using namespace alopex::dhcp;

static void write(const std::string &dir, const char *name, const std::vector<uint8_t> &b)
{
    std::ofstream(dir + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char *>(b.data()), std::streamsize(b.size()));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    ReplySpec s;
    s.type = MessageType::offer;
    s.xid = 0x3903f326;
    s.chaddr = {0x02, 0x00, 0x00, 0x00, 0x00, 0x11};
    s.yiaddr = 0x0a2a0032;       // 10.42.0.50
    s.server_id = 0x0a2a0001;    // 10.42.0.1
    s.lease_time = 120, s.t1 = 60, s.t2 = 105;
    s.subnet_mask = 0xffffff00;
    s.routers = {0x0a2a0001};
    s.dns = {0x0a2a0001, 0x08080808};
    s.domain = "test.alopex";
    s.mtu = 1400;
    s.classless_routes = {{0x0a630000, 16, 0x0a2a00fe}, {0, 0, 0x0a2a0001}};
    write(dir, "offer", build_reply(s));
    s.type = MessageType::ack;
    write(dir, "ack", build_reply(s));
    write(dir, "ack-frame", build_ipv4_udp(0x0a2a0001, 0x0a2a0032, 67, 68, build_reply(s)));
    s.classless_routes.clear();
    s.t1.reset(), s.t2.reset();
    write(dir, "ack-plain", build_reply(s));
    ReplySpec n;
    n.type = MessageType::nak;
    n.xid = s.xid;
    n.chaddr = s.chaddr;
    n.server_id = s.server_id;
    write(dir, "nak", build_reply(n));
    auto ov = build_reply(s);
    ov.resize(240);
    std::vector<uint8_t> opts = {53, 1, 5, 54, 4, 10, 42, 0, 1, 52, 1, 3, 255};
    ov.insert(ov.end(), opts.begin(), opts.end());
    ov[108] = 51, ov[109] = 4, ov[110] = 0, ov[111] = 0, ov[112] = 0, ov[113] = 120, ov[114] = 255;
    ov[44] = 6, ov[45] = 4, ov[46] = 9, ov[47] = 9, ov[48] = 9, ov[49] = 9, ov[50] = 255;
    write(dir, "overload", ov);
    auto lying = build_reply(s);
    lying[241] = 200;   // option 53's length runs past the end
    write(dir, "lying-length", lying);
    write(dir, "discover", build_discover({s.chaddr, {}, "host"}, s.xid, 0));
    return 0;
}
