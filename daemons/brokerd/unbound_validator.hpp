// SPDX-License-Identifier: GPL-2.0-or-later
// The "unbound" validator: what an unbound configuration include written by
// alopex-dnsd-controller may say. unbound reads it as root before it drops privileges,
// and unbound.conf can run code (python-script, module-config), read any file (include,
// auto-trust-anchor-file, tls-*-key), or change where unbound lives (chroot, directory,
// username, pidfile, logfile, remote-control). So only an allowlist passes, clause by
// clause, with values checked:
//   server:        interface (an address), access-control (a network, then allow|refuse|
//                  deny|allow_snoop), cache-min-ttl, cache-max-ttl, serve-expired,
//                  serve-expired-ttl, serve-expired-client-timeout, prefetch,
//                  extended-statistics, statistics-cumulative, tls-upstream (numbers,
//                  yes|no), tls-cert-bundle (/etc/ssl/certs/ca-certificates.crt only),
//                  local-zone ("name." always_nxdomain|always_refuse|transparent|static)
//   forward-zone:  name ("." or a domain), forward-addr (address[@port][#name]),
//                  forward-tls-upstream, forward-first (yes|no)
//   dnstap:        dnstap-enable, dnstap-bidirectional, dnstap-send-identity,
//                  dnstap-send-version, dnstap-log-client-query-messages,
//                  dnstap-log-client-response-messages (yes|no), dnstap-socket-path (a
//                  path under /run/alopex/)
// Clause headers at the start of a line, options indented or not, one per line; values
// optionally in double quotes; comments and blank lines. Nothing else: no include, no
// other clause, no control character but tab, no backslash.
#pragma once

#include <string_view>

#include "alopex/error.hpp"

namespace alopex::broker {

// ok, or the error (without a line number: validate_block adds it) for one line; `clause`
// carries the clause the lines are in.
Result<void> unbound_line(std::string_view line, std::string &clause);

} // namespace alopex::broker
