#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Panic mode against real traffic: with Panic(true) new connections from the peer (even
from management, even ICMP echo) are dropped while an established TCP connection keeps
working; Panic(false) restores the configured policy. The Panic property follows, and
panic mode survives a restart of fwd."""
import alopex_harness as h
import fwd_env as f

tap = h.Tap()


def setup(sb):
    f.setup(sb)
    sb.listeners = f.Listeners((22,))


def closed(sb, port=22):
    return not f.connect(sb, f.HOST_ADDR, port, f.ALLOWED_SRC, 1.0).startswith('OK')


@tap.test('Panic(true) drops new connections, keeps an established one; Panic(false) restores')
def _(sb):
    h.check_eq(f.prop(sb, 'Panic'), False, 'Panic before')
    session = f.Session(sb, f.HOST_ADDR, 22, f.ALLOWED_SRC)
    try:
        h.check_eq(session.send('before'), 'before', 'echo before panic')
        f.expect_ok(f.panic(sb, True), 'Panic(true)')
        try:
            h.check_eq(f.prop(sb, 'Panic'), True, 'Panic property')
            h.check(closed(sb), 'a new connection from management got through in panic mode')
            h.check(not f.peer_ping(sb, f.HOST_ADDR, f.ALLOWED_SRC, 1.0), 'ping answered in panic mode')
            h.check_eq(session.send('during panic'), 'during panic', 'echo on the established connection')
        finally:
            f.expect_ok(f.panic(sb, False), 'Panic(false)')
        h.check_eq(f.prop(sb, 'Panic'), False, 'Panic property after')
        h.check(f.connects(sb, f.HOST_ADDR, 22, f.ALLOWED_SRC), 'new connection after Panic(false)')
        h.check(f.peer_ping(sb, f.HOST_ADDR, f.ALLOWED_SRC, 3.0), 'ping after Panic(false)')
        h.check_eq(session.send('after'), 'after', 'echo after panic')
        # The configured policy is back, not an open door.
        h.check(not f.connect(sb, f.HOST_ADDR, 22, f.DENIED_SRC, 1.0).startswith('OK'),
                'outside management still closed')
    finally:
        session.close()


@tap.test('panic mode survives a restart of fwd')
def _(sb):
    f.expect_ok(f.panic(sb, True), 'Panic(true)')
    try:
        f.kill9(sb)
        h.check(closed(sb), 'open while fwd is dead (the table should persist)')
        f.start_fwd(sb)
        h.check_eq(f.prop(sb, 'Panic'), True, 'Panic property after the restart')
        h.check(closed(sb), 'open after the restart in panic mode')
    finally:
        f.expect_ok(f.panic(sb, False), 'Panic(false)')
    h.check(f.connects(sb, f.HOST_ADDR, 22, f.ALLOWED_SRC), 'open after Panic(false)')


@tap.test('the daemon is still running')
def _(sb):
    f.check_alive(sb)


h.main(tap, setup)
