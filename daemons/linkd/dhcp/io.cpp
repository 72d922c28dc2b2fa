// SPDX-License-Identifier: GPL-2.0-or-later
// The packet and UDP sockets of the DHCPv4 client, and its state file.
#include "io.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "alopex/file.hpp"
#include "ipudp.hpp"

namespace alopex::dhcp {

namespace {

constexpr size_t max_frame = 65536;

// IPv4, UDP, not a fragment, destination port 68. Offsets are into the IP header
// (SOCK_DGRAM packet sockets strip the link header).
sock_filter dhcp_filter[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),                 // 0: A = version/IHL
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),             // 1
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, 8),       // 2: IPv4 ?
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                 // 3: protocol
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6), // 4: UDP ?
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                 // 5: flags/fragment offset
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),    // 6: MF or offset: drop
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                // 7: X = IHL * 4
    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                 // 8: UDP destination port
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, client_port, 0, 1), // 9
    BPF_STMT(BPF_RET | BPF_K, 0xffff),                     // 10: accept
    BPF_STMT(BPF_RET | BPF_K, 0),                          // 11: drop
};

int64_t clock_usec(clockid_t c)
{
    timespec ts{};
    clock_gettime(c, &ts);
    return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

int64_t realtime_offset() { return clock_usec(CLOCK_REALTIME) - clock_usec(CLOCK_BOOTTIME); }

} // namespace

Result<PacketSocket> PacketSocket::open(int ifindex)
{
    PacketSocket s;
    s.ifindex_ = ifindex;
    // Protocol 0 first: nothing is queued until the filter is in place and we bind.
    s.fd_ = Fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s.fd_)
        return io_fail(errno, "packet socket");
    sock_fprog prog{uint16_t(std::size(dhcp_filter)), dhcp_filter};
    if (setsockopt(s.fd_.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
        return io_fail(errno, "packet socket: SO_ATTACH_FILTER");
    int one = 1;
    if (setsockopt(s.fd_.get(), SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
        return io_fail(errno, "packet socket: PACKET_AUXDATA");
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = ifindex;
    if (bind(s.fd_.get(), reinterpret_cast<sockaddr *>(&sll), sizeof sll) < 0)
        return io_fail(errno, fmt::format("packet socket: bind to ifindex {}", ifindex));
    return s;
}

Result<void> PacketSocket::send(std::span<const uint8_t> payload, Ipv4 src, Ipv4 dst,
                                const Mac &dmac)
{
    auto frame = build_ipv4_udp(src, dst, client_port, server_port, payload);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = ifindex_;
    sll.sll_halen = 6;
    std::memcpy(sll.sll_addr, dmac.data(), 6);
    if (::sendto(fd_.get(), frame.data(), frame.size(), MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr *>(&sll), sizeof sll) < 0)
        return io_fail(errno, "packet socket: send");
    return {};
}

Result<std::vector<uint8_t>> PacketSocket::receive()
{
    std::vector<uint8_t> buf(max_frame);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0)
        return io_fail(errno, "packet socket: receive");
    if (msg.msg_flags & MSG_TRUNC)
        return fail(EMSGSIZE, "packet socket: frame truncated");
    bool check_sum = true;
    for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
            tpacket_auxdata aux;
            std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
            check_sum = !(aux.tp_status & TP_STATUS_CSUMNOTREADY);
        }
    }
    auto d = parse_ipv4_udp(std::span(buf.data(), size_t(n)), client_port, check_sum);
    if (!d)
        return std::unexpected(d.error());
    if (d->sport != server_port)
        return failf(EBADMSG, "UDP: source port {}", d->sport);
    return std::vector<uint8_t>(d->payload.begin(), d->payload.end());
}

Result<UdpSocket> UdpSocket::open(const std::string &ifname, Ipv4 address)
{
    UdpSocket s;
    s.address_ = address;
    s.fd_ = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s.fd_)
        return io_fail(errno, "UDP socket");
    int one = 1;
    setsockopt(s.fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s.fd_.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
    if (setsockopt(s.fd_.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                   socklen_t(ifname.size())) < 0)
        return io_fail(errno, fmt::format("UDP socket: SO_BINDTODEVICE {}", ifname));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(client_port);
    sin.sin_addr.s_addr = htonl(address);
    if (bind(s.fd_.get(), reinterpret_cast<sockaddr *>(&sin), sizeof sin) < 0)
        return io_fail(errno, fmt::format("UDP socket: bind {}:68", ip_to_string(address)));
    return s;
}

Result<void> UdpSocket::send(std::span<const uint8_t> payload, Ipv4 server)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(server_port);
    sin.sin_addr.s_addr = htonl(server);
    if (::sendto(fd_.get(), payload.data(), payload.size(), MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr *>(&sin), sizeof sin) < 0)
        return io_fail(errno, fmt::format("UDP send to {}", ip_to_string(server)));
    return {};
}

Result<std::vector<uint8_t>> UdpSocket::receive()
{
    std::vector<uint8_t> buf(max_frame);
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t n = ::recvfrom(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC,
                           reinterpret_cast<sockaddr *>(&from), &fl);
    if (n < 0)
        return io_fail(errno, "UDP receive");
    if (size_t(n) > buf.size())
        return fail(EMSGSIZE, "UDP: datagram truncated");
    if (ntohs(from.sin_port) != server_port)
        return failf(EBADMSG, "UDP: source port {}", ntohs(from.sin_port));
    buf.resize(size_t(n));
    return buf;
}

Result<std::string> interface_name(int ifindex)
{
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(unsigned(ifindex), name))
        return io_fail(errno, fmt::format("ifindex {}", ifindex));
    return std::string(name);
}

Result<Mac> interface_mac(const std::string &ifname)
{
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s)
        return io_fail(errno, "socket");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IF_NAMESIZE - 1);
    if (ioctl(s.get(), SIOCGIFHWADDR, &ifr) < 0)
        return io_fail(errno, fmt::format("{}: SIOCGIFHWADDR", ifname));
    if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */)
        return failf(EOPNOTSUPP, "{}: not an Ethernet link", ifname);
    Mac m;
    std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, 6);
    return m;
}

Result<void> write_lease_file(const std::filesystem::path &p, const Lease &l)
{
    return write_file_atomic(p, format_lease(l, realtime_offset()), {.mode = 0600});
}

Result<void> remove_lease_file(const std::filesystem::path &p)
{
    if (::unlink(p.c_str()) < 0 && errno != ENOENT)
        return io_fail(errno, p.string());
    return {};
}

Result<std::optional<Lease>> read_lease_file(const std::filesystem::path &p)
{
    std::error_code ec;
    if (!std::filesystem::exists(p, ec))
        return std::optional<Lease>();
    auto text = read_regular_file(p, max_lease_file);
    if (!text)
        return std::unexpected(text.error());
    auto l = parse_lease(*text, realtime_offset());
    if (!l)
        return failf(EINVAL, "{}: {}", p.string(), l.error().message);
    return std::optional<Lease>(std::move(*l));
}

} // namespace alopex::dhcp
