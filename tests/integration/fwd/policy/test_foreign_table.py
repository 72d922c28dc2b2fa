#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Other tools' tables are not fwd's business: `table ip foreign` (a base chain, rules with
a named set, an anonymous set, a named counter and a comment; an interval set; a map),
created with nft before fwd starts, lists byte for byte the same (`nft -j list table ip
foreign`, handles included) after fwd's start, a Reload, Panic(true), Panic(false), a
kill -9 and restart, and a stop with SIGTERM. No traffic reaches it (no links but lo), so
its counters do not move by themselves."""
import alopex_harness as h
import fwd_env as f

tap = h.Tap()
FOREIGN = """
table ip foreign {
    counter c_ssh { }
    set blocked {
        type ipv4_addr
        flags interval
        elements = { 198.51.100.0/24, 203.0.113.7, 192.0.2.10-192.0.2.20 }
    }
    map portmap {
        type inet_service : verdict
        elements = { 5000 : accept, 5001 : drop }
    }
    chain in {
        type filter hook input priority 10; policy accept;
        ip saddr @blocked counter drop
        tcp dport 22 counter name "c_ssh" accept comment "ssh from anywhere"
        tcp dport { 80, 443 } accept
        tcp dport vmap @portmap
    }
    chain helper {
        udp dport 53 accept
    }
}
"""


def foreign(sb):
    rc, out, err = sb.run(['nft', '-j', 'list', 'table', 'ip', 'foreign'])
    h.check_eq(rc, 0, f'nft -j list table ip foreign: {err.strip()}')
    return out


def create_foreign(sb):
    f.nft(sb, '-f', '-', input=FOREIGN)
    sb.foreign_before = foreign(sb)
    sb.foreign_text = f.nft(sb, 'list', 'table', 'ip', 'foreign')


def setup(sb):
    f.setup(sb, f.policy(), peer=False, before_start=create_foreign)


def same(sb, after):
    got = foreign(sb)
    if got != sb.foreign_before:
        text = f.nft(sb, 'list', 'table', 'ip', 'foreign')
        raise AssertionError(f'table ip foreign changed after {after}:\nbefore:\n{sb.foreign_text}\n'
                             f'after:\n{text}\njson before: {sb.foreign_before}\njson after: {got}')


@tap.test('foreign table intact after start, reload, panic, restart and stop')
def _(sb):
    h.check('alopex' in f.nft(sb, 'list', 'tables'), 'fwd made its table')
    same(sb, 'start')
    f.expect_ok(f.reload(sb), 'Reload')
    same(sb, 'Reload')
    f.expect_ok(f.panic(sb, True), 'Panic(true)')
    h.check_eq(f.prop(sb, 'Panic'), True, 'Panic property')
    same(sb, 'Panic(true)')
    f.expect_ok(f.panic(sb, False), 'Panic(false)')
    same(sb, 'Panic(false)')
    f.kill9(sb)
    same(sb, 'kill -9')
    f.start_fwd(sb)
    same(sb, 'restart')
    f.expect_ok(f.reload(sb), 'Reload after restart')
    same(sb, 'Reload after restart')
    rc = f.stop_fwd(sb)
    h.check_eq(rc, 0, 'exit status after SIGTERM')
    same(sb, 'stop')
    tables = f.nft(sb, 'list', 'tables')
    h.diag(f'tables after stop: {" | ".join(tables.splitlines())}')
    f.start_fwd(sb)   # for the tests that may follow (and the final sanitizer check)
    same(sb, 'start after stop')


@tap.test('a foreign table named alopex in another family is left alone too')
def _(sb):
    f.nft(sb, 'add', 'table', 'ip', 'alopex')
    f.nft(sb, 'add', 'chain', 'ip', 'alopex', 'c')
    f.nft(sb, 'add', 'rule', 'ip', 'alopex', 'c', 'tcp', 'dport', '1', 'accept')
    before = f.nft(sb, '-j', 'list', 'table', 'ip', 'alopex')
    f.expect_ok(f.reload(sb), 'Reload')
    f.expect_ok(f.panic(sb, True), 'Panic(true)')
    f.expect_ok(f.panic(sb, False), 'Panic(false)')
    h.check_eq(f.nft(sb, '-j', 'list', 'table', 'ip', 'alopex'), before, 'table ip alopex')
    same(sb, 'the ip alopex checks')


h.main(tap, setup)
