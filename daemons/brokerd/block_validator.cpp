// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <string>
#include <vector>

#include "block_validator.hpp"
#include "managed_block.hpp"
#include "unbound_validator.hpp"

namespace alopex::broker {

namespace {

constexpr size_t max_line = 1024;

// The option lines openvswitch-switch's ifupdown.sh reads, but ovs_extra (eval'ed).
constexpr std::array<std::string_view, 9> ovs_options{
    "ovs_type",       "ovs_bridge",      "ovs_ports",      "ovs_bonds",         "ovs_options",
    "ovs_mtu",        "ovs_patch_peer",  "ovs_tunnel_type", "ovs_tunnel_options"};

bool blank(char c) { return c == ' ' || c == '\t'; }
bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::vector<std::string_view> words(std::string_view s)
{
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && blank(s[i]))
            ++i;
        size_t start = i;
        while (i < s.size() && !blank(s[i]))
            ++i;
        if (i > start)
            out.push_back(s.substr(start, i - start));
    }
    return out;
}

// Caller text quoted in an error, bounded.
std::string shown(std::string_view w)
{
    std::string out(w.substr(0, 32));
    if (w.size() > 32)
        out += "...";
    return out;
}

// An interface (or allow- class) name: 1..15 bytes of [A-Za-z0-9_.-], starting with a
// letter, digit or '_' (never '-': ifup would read it as an option).
bool if_name(std::string_view s)
{
    if (s.empty() || s.size() > 15 || !(alnum(s[0]) || s[0] == '_'))
        return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// A word of an ovs_* value: handed unquoted to ovs-vsctl or ifup by ifupdown.sh, so no
// shell or glob characters, and no leading '-' (an option of those programs).
bool value_word(std::string_view s)
{
    if (s.empty() || s[0] == '-')
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return alnum(c) || c == '.' || c == '_' || c == ':' || c == '=' || c == ',' ||
               c == '@' || c == '/' || c == '+' || c == '-';
    });
}

struct InterfacesState {
    bool in_iface = false; // the last stanza line of the block was `iface`
};

Result<void> interfaces_line(std::string_view line, InterfacesState &st)
{
    if (line.size() > max_line)
        return fail(EINVAL, fmt::format("longer than {} bytes", max_line));
    for (char c : line)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
            return fail(EINVAL, "holds a control character");
    if (!line.empty() && line.back() == '\\')
        return fail(EINVAL, "ends in '\\' (a line continuation)");
    auto w = words(line);
    if (w.empty())
        return {};
    if (w[0].front() == '#')
        return {}; // a comment line (ifupdown has no end-of-line comments)
    if (blank(line.front())) {
        if (std::find(ovs_options.begin(), ovs_options.end(), w[0]) == ovs_options.end())
            return fail(EINVAL, fmt::format("option '{}' is not allowed (only ovs_type, "
                                            "ovs_bridge, ovs_ports, ovs_bonds, ovs_options, "
                                            "ovs_mtu, ovs_patch_peer, ovs_tunnel_type, "
                                            "ovs_tunnel_options)",
                                            shown(w[0])));
        if (!st.in_iface)
            return fail(EINVAL, fmt::format("option '{}' outside an iface stanza of the block",
                                            w[0]));
        if (w.size() < 2)
            return fail(EINVAL, fmt::format("option '{}' has no value", w[0]));
        for (size_t i = 1; i < w.size(); ++i)
            if (!value_word(w[i]))
                return fail(EINVAL, fmt::format("'{}' is not an allowed value word ([A-Za-z0-9."
                                                "_:=,@/+-], not starting with '-')",
                                                shown(w[i])));
        return {};
    }
    if (w[0] == "iface") {
        if (w.size() != 4 || !if_name(w[1]) || (w[2] != "inet" && w[2] != "inet6") ||
            w[3] != "manual")
            return fail(EINVAL, "must be 'iface NAME inet|inet6 manual'");
        st.in_iface = true;
        return {};
    }
    if (w[0] == "auto" || (w[0].starts_with("allow-") && if_name(w[0].substr(6)))) {
        if (w.size() < 2)
            return fail(EINVAL, fmt::format("'{}' names no interface", w[0]));
        for (size_t i = 1; i < w.size(); ++i)
            if (!if_name(w[i]))
                return fail(EINVAL, fmt::format("'{}' is not an interface name", shown(w[i])));
        st.in_iface = false;
        return {};
    }
    return fail(EINVAL, fmt::format("'{}' is not allowed (only auto, allow-*, iface, indented "
                                    "ovs_* options, comments and blank lines)",
                                    shown(w[0])));
}

} // namespace

std::optional<Validator> validator_from_string(std::string_view s)
{
    for (size_t i = 0; i < validator_names.size(); ++i)
        if (validator_names[i] == s)
            return static_cast<Validator>(i);
    return std::nullopt;
}

Result<void> validate_block(Validator v, std::string_view contents)
{
    InterfacesState st;
    std::string clause;   // unbound: the clause the lines are in
    size_t no = 0;
    for (const auto &l : split_lines(contents)) {
        ++no;
        Result<void> r;
        switch (v) {
        case Validator::interfaces:
            r = interfaces_line(l.text, st);
            break;
        case Validator::unbound:
            r = unbound_line(l.text, clause);
            break;
        }
        if (!r)
            return bus_fail(bus_error::InvalidArgument, "contents: line {}: {}", no,
                            r.error().message);
    }
    return {};
}

} // namespace alopex::broker
