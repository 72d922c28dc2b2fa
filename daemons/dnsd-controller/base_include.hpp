// SPDX-License-Identifier: GPL-2.0-or-later
// The unbound configuration dnsd-controller owns: one include file
// (/etc/unbound/unbound.conf.d/alopex.conf, written through the broker's
// WriteManagedFile, whose "unbound" validator admits exactly what this writes). Pure.
//   server:       the listen addresses and their access-control (each address's own
//                 network: the host asks, nobody else), cache TTL bounds, serve-expired
//                 (answers from the cache while the upstreams are away, seed 004's
//                 offline mode), extended statistics (NXDOMAIN/SERVFAIL rates and the
//                 answer-time histogram), and with a DNS-over-TLS upstream tls-upstream
//                 and Debian's CA bundle: unbound 1.17.1 has no per-zone TLS at run time
//                 (forward_add +t is 1.20's), so DoT upstreams are the "." forward-zone
//                 of this file;
//   forward-zone: "." to the configured upstreams in order, when there are any;
//   dnstap:       client queries and responses to the controller's socket, when given.
// What changes at run time (per-link zones, blocklists, a dead upstream taken out) goes
// through the control socket, never through this file.
#pragma once

#include <string>

#include "settings.hpp"

namespace alopex::dns {

inline constexpr const char *ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

// `dnstap_socket` empty: no dnstap clause.
std::string base_include(const Settings &s, const std::string &dnstap_socket = {});

} // namespace alopex::dns
