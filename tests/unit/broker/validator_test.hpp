// SPDX-License-Identifier: GPL-2.0-or-later
// The validator tests' one check of a refusal: InvalidArgument, "contents: line N: ...".
#pragma once

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "block_validator.hpp"

namespace alopex::broker::test {

inline std::string refusal(Validator v, std::string_view text)
{
    auto r = validate_block(v, text);
    INFO(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().bus_name == bus_error::InvalidArgument);
    CHECK(r.error().message.starts_with("contents: line "));
    return r.error().message;
}

} // namespace alopex::broker::test
