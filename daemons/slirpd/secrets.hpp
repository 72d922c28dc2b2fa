// SPDX-License-Identifier: GPL-2.0-or-later
// The secrets of PAP and CHAP ([auth] of alopex-slirp.toml(5)), in the format of pppd's
// pap-secrets and chap-secrets: one secret a line, `client server secret [addresses]`,
// words separated by blanks, a word with blanks in "double" or 'single' quotes (a
// backslash escapes the next character), # to the end of the line a comment. A line
// whose server is neither `our_name` nor * belongs to another server and is skipped; a
// client of * matches any name. Addresses other than * are refused (slirpd gives the
// peer its configured address), as are @file secrets. Every refusal is "file:line:
// what"; nothing is changed by a file that is refused.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "alopex/error.hpp"

namespace alopex::slirp {

using Secrets = std::map<std::string, std::string>;   // the peer's name (or *) -> its secret

Result<Secrets> parse_secrets(std::string_view text, std::string_view file, std::string_view our_name);

// The secrets file as [auth] names it: `path`, whose mode must give the group and others
// nothing, or the credential `credential` in $CREDENTIALS_DIRECTORY (LoadCredential=).
Result<Secrets> read_secrets(const std::string &path, const std::string &credential, std::string_view our_name);

} // namespace alopex::slirp
