// SPDX-License-Identifier: GPL-2.0-or-later
// Reading acknowledgements (NLMSG_ERROR, with the kernel's extended-ACK text) out of a
// datagram received on the request socket. Pure, so unit tests and the fuzzer reach it.
#include <linux/netlink.h>

#include <climits>
#include <cstring>

#include "rtnl.hpp"

namespace alopex::linkd::rtnl {

namespace {

std::string printable(std::string_view s)
{
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        out += c >= 0x20 && c != 0x7f ? ch : '?';
    }
    return out;
}

// The NLMSGERR_ATTR_MSG text of an error ACK, if the kernel sent one. The message
// [base, base + len) has been checked to lie within the datagram and to hold at least
// an nlmsgerr's error field.
std::string extack_message(const unsigned char *base, size_t len, uint16_t flags)
{
    if (!(flags & NLM_F_ACK_TLVS))
        return {};
    size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if (off > len)
        return {};
    if (!(flags & NLM_F_CAPPED)) {
        // The whole request is echoed after the error: the attributes follow it.
        nlmsghdr echoed;
        std::memcpy(&echoed, base + NLMSG_HDRLEN + sizeof(int), sizeof echoed);
        size_t orig = echoed.nlmsg_len;
        if (orig < sizeof(nlmsghdr) || orig > len)
            return {};
        off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int) + orig);
    }
    while (off <= len && len - off >= sizeof(nlattr)) {
        nlattr a;
        std::memcpy(&a, base + off, sizeof a);
        if (a.nla_len < sizeof(nlattr) || a.nla_len > len - off)
            return {};
        if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            std::string_view s(reinterpret_cast<const char *>(base + off + sizeof(nlattr)), a.nla_len - sizeof(nlattr));
            if (auto z = s.find('\0'); z != s.npos)
                s = s.substr(0, z);
            while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
                s.remove_suffix(1);
            return printable(s);
        }
        off += NLMSG_ALIGN(a.nla_len);
    }
    return {};
}

} // namespace

std::vector<Ack> parse_acks(std::span<const unsigned char> datagram, uint32_t sender_pid, uint32_t portid,
                            uint32_t base, size_t count)
{
    std::vector<Ack> out;
    if (sender_pid != 0)
        return out;   // not from the kernel
    const unsigned char *p = datagram.data();
    size_t len = datagram.size();
    size_t off = 0;
    while (off <= len && len - off >= NLMSG_HDRLEN) {
        nlmsghdr h;
        std::memcpy(&h, p + off, sizeof h);
        // Our own bound: libmnl's mnl_nlmsg_ok() would accept lengths >= 2^31.
        if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
            break;
        uint32_t k = h.nlmsg_seq - base;
        if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_pid == portid && k < count) {
            Ack a;
            a.index = k;
            if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(int)) {
                a.error = EBADMSG;
                a.message = "truncated acknowledgement";
            } else {
                int err;
                std::memcpy(&err, p + off + NLMSG_HDRLEN, sizeof err);
                if (err != 0) {
                    a.error = err < 0 && err != INT_MIN ? -err : EIO;
                    a.message = extack_message(p + off, h.nlmsg_len, h.nlmsg_flags);
                }
            }
            out.push_back(std::move(a));
        }
        off += NLMSG_ALIGN(h.nlmsg_len);
    }
    return out;
}

} // namespace alopex::linkd::rtnl
