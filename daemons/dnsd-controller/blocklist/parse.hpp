// SPDX-License-Identifier: GPL-2.0-or-later
// Blocklist files as administrators and security agents have them, the pure part: one
// file's text to the names it blocks and the names it allows, or the first line that is
// wrong ("path:line: what"), in which case nothing of the file is taken.
//
// One entry per line, the format told line by line:
//   - hosts:      "0.0.0.0 ads.example tracker.example" (any address, then names; the
//                 hosts-file names of the machine itself, localhost and the like, skipped)
//   - domain:     "ads.example", "*.ads.example" (the same: a name blocks its subdomains)
//   - adblock:    "||ads.example^" blocks, "@@||ads.example^" allows ($important accepted;
//                 other $options, element hiding "##" and /regex/ rules are refused:
//                 they mean more than a name)
//   - comments:   "# ..." (also after a hosts entry), "! ..." and "[Adblock Plus 2.0]"
//                 headers; blank lines.
// Names are DNS names (alopex/net.hpp's valid_domain), compared without case and without a
// trailing dot, returned in lower case. A line over max_line bytes (default 64 KiB), a NUL
// byte (a binary file), a name that is not one: the file is refused at that line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::dns {

struct BlocklistOptions {
    size_t max_line = 64 * 1024;
    size_t max_entries = 10'000'000;
};

struct ParsedList {
    std::vector<std::string> block, allow;   // in file order, duplicates kept
};

// `what` names the file in errors ("/etc/alopex/dns/blocklists/ads.txt").
Result<ParsedList> parse_blocklist(std::string_view text, std::string_view what, BlocklistOptions options = {});

// One name as a blocklist entry: lower case, "*." and one trailing dot taken off; the
// error says why it is not a name (no position).
Result<std::string> blocklist_name(std::string_view name);

} // namespace alopex::dns
