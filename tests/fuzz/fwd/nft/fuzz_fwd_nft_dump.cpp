// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as one datagram of an nf_tables dump's answer, through libmnl's
// mnl_cb_run (dump_datagram) into each of fwd's dump parsers (table, chains, sets,
// counters). Never a crash, an exception or a read past the datagram (an exactly-sized
// copy: ASan sees it); what is kept has a name; a datagram for another sequence number or
// port gives nothing to the parsers.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include <libmnl/libmnl.h>

#include "nft/dump.hpp"
#include "nft/socket.hpp"

using namespace alopex::fwd::nft;
using namespace alopex::fwd::nft::detail;

namespace {

void check(bool ok)
{
    if (!ok)
        abort();
}

template <class Map> void named(const Map &m)
{
    for (const auto &[name, _] : m)
        check(!name.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
    if (size)
        std::memcpy(buf.get(), data, size);
    const uint8_t *p = buf.get();

    TableInfo table;
    (void)dump_datagram(p, size, 0, 0, [&](const nlmsghdr *n) { return parse_table(n, 2215, table); });
    check(!table.ours || table.exists);
    std::map<std::string, ExistingChain> chains;
    (void)dump_datagram(p, size, 0, 0, [&](const nlmsghdr *n) { return parse_chain(n, chains); });
    named(chains);
    std::map<std::string, SetShape> sets;
    (void)dump_datagram(p, size, 0, 0, [&](const nlmsghdr *n) { return parse_set(n, sets); });
    named(sets);
    std::map<std::string, CounterValue> counters;
    (void)dump_datagram(p, size, 0, 0, [&](const nlmsghdr *n) { return parse_counter(n, counters); });
    named(counters);

    // Strict about sequence and port, as a Socket reads: only matching messages reach the
    // callback (libmnl lets 0, "unset", through on either).
    const uint32_t seq = 0x6b15dc36, port = 2215;
    (void)dump_datagram(p, size, seq, port, [&](const nlmsghdr *n) {
        check((n->nlmsg_seq == seq || n->nlmsg_seq == 0) && (n->nlmsg_pid == port || n->nlmsg_pid == 0));
        return MNL_CB_OK;
    });
    return 0;
}
