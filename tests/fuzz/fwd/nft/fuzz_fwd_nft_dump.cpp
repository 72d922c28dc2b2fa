// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as one datagram of an nf_tables dump's answer, split into messages as
// netlink::Requester hands them on (NLMSG_OK / NLMSG_NEXT), each fed to fwd's dump parsers
// (table, chains, sets, counters). Never a crash, an exception or a read past the
// datagram (an exactly-sized copy: ASan sees it); what is kept has a name.
#include <linux/netlink.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "nft/dump.hpp"

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

    TableInfo table;
    std::map<std::string, ExistingChain> chains;
    std::map<std::string, SetShape> sets;
    std::map<std::string, CounterValue> counters;
    const auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.get());
    int left = static_cast<int>(size);
    while (NLMSG_OK(nlh, left)) {
        if (nlh->nlmsg_type != NLMSG_DONE && nlh->nlmsg_type != NLMSG_ERROR) {
            (void)parse_table(nlh, 2215, table);
            (void)parse_chain(nlh, chains);
            (void)parse_set(nlh, sets);
            (void)parse_counter(nlh, counters);
        }
        nlh = NLMSG_NEXT(nlh, left);
    }
    check(!table.ours || table.exists);
    named(chains);
    named(sets);
    named(counters);
    return 0;
}
