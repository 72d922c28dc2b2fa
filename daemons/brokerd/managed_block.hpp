// SPDX-License-Identifier: GPL-2.0-or-later
// The managed-block editor: pure, bytes in, bytes out.
//
// The file must hold exactly one line "# BEGIN <tag>" and exactly one line "# END <tag>"
// (a line may end in "\r\n"), BEGIN before END. Only the lines strictly between them are
// replaced; every other byte is kept, including CRLF line ends and a missing final newline.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alopex/error.hpp"

namespace alopex::broker {

struct Line {
    size_t start = 0;      // offset of the first byte
    size_t end = 0;        // offset just past the '\n' (or the end of the text)
    std::string_view text; // without "\n" and one trailing "\r"
};
// The lines of `s`, split at '\n'; a last line without '\n' counts, an empty text has none.
std::vector<Line> split_lines(std::string_view s);

// 1..64 bytes of [A-Za-z0-9._:@-], else InvalidArgument naming `tag`.
Result<void> validate_tag(std::string_view tag);

// InvalidArgument naming `contents` when a line of it looks like a marker of any tag:
// after optional blanks, '#', optional blanks and BEGIN or END in any case, then the end
// of the line or a blank. (Planting another block's markers would break that block for
// good; planting this block's would move its end.)
Result<void> check_no_markers(std::string_view contents);

// Returns the new file bytes. Errors (each a named bus error):
//   InvalidArgument naming `tag` or `contents` (check_no_markers),
//   BadMarkers (a marker missing, duplicated, or END before BEGIN).
Result<std::string> replace_block(std::string_view file, std::string_view tag,
                                  std::string_view contents);

} // namespace alopex::broker
