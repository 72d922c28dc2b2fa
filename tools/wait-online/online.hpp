// SPDX-License-Identifier: GPL-2.0-or-later
// When is the network "online"? Pure: a view of linkd's links in, a verdict out.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "link1_client.hpp"

namespace alopex::online {

struct AddressView {
    int family = 0;          // AF_INET / AF_INET6
    std::string scope;       // "global", "site", "link", "host"
};

struct LinkView {
    int ifindex = 0;
    std::string name;
    std::string operstate;   // as `ip` shows it: UP, DOWN, UNKNOWN, ...
    std::string admin;       // "up" / "down"
    int controller = 0;      // a bridge/bond port is configured through its controller
    std::optional<bool> managed;  // a profile applies (absent: linkd does not say)
    std::vector<AddressView> addresses;
};

struct Options {
    std::vector<std::string> interfaces;  // --interface, repeatable; empty = the default set
    bool any = false;                     // --any: one routable link is enough
};

struct Verdict {
    bool online = false;
    std::string waiting_for;  // human text: which links are not routable yet
};

// The parts of linkd's link objects the verdict reads.
LinkView view_of(const ipc::link1::LinkInfo &l);

// Carrier up (UP, or UNKNOWN for devices without carrier reporting such as tun), IFF_UP,
// and an address of global or site scope.
bool routable(const LinkView &l);

// The links waited for: the named ones; otherwise those linkd manages (a profile
// matched), or, when linkd does not report management, every administratively up link
// that is not loopback and not a port of a bridge or bond. Online when all of them are
// routable (or, with --any, one of them) and at least one link is. A named link that
// does not exist yet is waited for.
Verdict evaluate(const std::vector<LinkView> &links, const Options &o);

// The same verdict kept link by link as linkd's objects change (keyed by object path):
// update() and remove() cost what one link costs, verdict() what is still missing.
class Tracker {
public:
    explicit Tracker(Options o) : o_(std::move(o)) {}
    void update(const std::string &path, const LinkView &l);
    void remove(const std::string &path);
    Verdict verdict() const;

private:
    struct State {
        int ifindex = 0;
        std::string name;
        bool waited = false;     // counted (the default set, or named)
        bool routable = false;
    };
    void count(const State &s, int sign);

    Options o_;
    std::map<std::string, State> links_;                // path -> state
    std::map<std::string, std::set<std::string>> named_;   // --interface name -> paths of links so named
    size_t waited_ = 0, up_ = 0;                        // the default set
    std::set<std::pair<int, std::string>> missing_;     // the default set's, by ifindex
};

} // namespace alopex::online
