// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as an AddRule spec against a fixed model: never a crash or exception;
// a refusal is "<key>: what" in printable ASCII; an accepted spec formats canonically, and parse -> format
// -> parse gives the same rule (and the canonical text is a fixed point).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"

namespace {

const alopex::fwd::Model &model()
{
    static const alopex::fwd::Model m = [] {
        auto r = alopex::fwd::config::parse(R"(
default_zone = "wan"
[sets]
management = ["192.0.2.0/24", "2001:db8:1::/48"]
v4only = ["198.51.100.0/24"]
v6only = ["2001:db8:2::/48"]
empty = []
[zones.wan]
interfaces = ["eth0", "wwan*"]
[zones.lan]
interfaces = ["br-*"]
input = "accept"
)", "model.toml");
        if (!r)
            abort();
        return *r;
    }();
    return m;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace alopex::fwd;
    std::string_view spec(reinterpret_cast<const char *>(data), size);
    auto r = config::parse_spec(spec, model());
    if (!r) {
        auto &msg = r.error().message;
        auto colon = msg.find(": ");
        if (colon == std::string::npos || colon == 0)
            abort();
        for (unsigned char c : msg) // it goes back over D-Bus: printable ASCII only
            if (c < 0x20 || c >= 0x7f)
                abort();
        return 0;
    }
    if (r->rule.has_value() == r->forward.has_value() || r->id != 0 || r->expires_at_us != 0 ||
        !r->comment.empty())
        abort();
    auto text = config::format_spec(*r);
    auto back = config::parse_spec(text, model());
    if (!back || !(*back == *r))
        abort();
    if (config::format_spec(*back) != text)
        abort();
    return 0;
}
