// SPDX-License-Identifier: GPL-2.0-or-later
// Address literals for unit tests, and Catch2 printing of the net:: types so that a
// failed comparison shows the addresses. The helpers throw on bad text (a test bug).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "alopex/net.hpp"

namespace alopex::test {

inline net::Address ip(std::string_view text) { return net::Address::parse(text).value(); }
// "192.0.2.10/24", or a bare address as its host prefix; host bits kept.
inline net::Prefix pfx(std::string_view text) { return net::Prefix::parse(text, "prefix", {.bare = true}).value(); }
inline net::Mac hw(std::string_view text) { return net::Mac::parse(text).value(); }

} // namespace alopex::test

// For Catch's INFO() and CAPTURE().
namespace alopex::net {
inline std::ostream &operator<<(std::ostream &o, const Address &a) { return o << a.to_string(); }
inline std::ostream &operator<<(std::ostream &o, const Prefix &p) { return o << p.to_string(); }
inline std::ostream &operator<<(std::ostream &o, const Mac &m) { return o << m.to_string(); }
} // namespace alopex::net

namespace Catch {
template <> struct StringMaker<alopex::net::Address> {
    static std::string convert(const alopex::net::Address &a) { return a.empty() ? "(no address)" : a.to_string(); }
};
template <> struct StringMaker<alopex::net::Prefix> {
    static std::string convert(const alopex::net::Prefix &p) { return p.empty() ? "(no prefix)" : p.to_string(); }
};
template <> struct StringMaker<alopex::net::Mac> {
    static std::string convert(const alopex::net::Mac &m) { return m.empty() ? "(no mac)" : m.to_string(); }
};
} // namespace Catch
