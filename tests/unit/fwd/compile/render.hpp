// SPDX-License-Identifier: GPL-2.0-or-later
// Test helper: renders our IR in the text `nft --debug=netlink` prints for the
// expressions it sends, so compiled rules compare with golden output captured from nft.
#pragma once

#include <string>
#include <vector>

#include "compile/compile.hpp"

namespace alopex::fwd::test {

// One line per expression, "  [ meta load l4proto => reg 1 ]\n", like nft.
std::string render(const nft::Rule &r);
std::string render(const nft::Expr &e);
// Drops lines nft prints that our IR leaves out on purpose: the byteorder of a 1-byte
// l4proto in concatenations (len 1 with size 2 converts nothing in the kernel).
std::string strip_noops(const std::string &nft_text);
// The rules of one chain.
std::vector<const nft::Rule *> chain_rules(const nft::Ruleset &rs, const std::string &chain);
const nft::Set *find_set(const nft::Ruleset &rs, const std::string &name);
std::string hex(const nft::Bytes &b);

} // namespace alopex::fwd::test
