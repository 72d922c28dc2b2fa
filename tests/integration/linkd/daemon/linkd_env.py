# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of the linkd daemon tests: the daemon (as root, on the private bus, with
polkitd and sd_notify), and independent views of the kernel (`ip -j`) and of the bus
(busctl for values, dbus-send for error names: busctl prints only error messages)."""
import os
import signal

import alopex_dbus as bus
import alopex_harness as h
from alopex_dbus import expect_error, expect_ok  # noqa: F401 (re-exported)
from alopex_kernel import ifindex, ip, ip_j  # noqa: F401 (re-exported)

SERVICE = 'org.alopex.Link1'
ROOT = '/org/alopex/Link1'
MANAGER = 'org.alopex.Link1.Manager'
LINK = 'org.alopex.Link1.Link'
E = 'org.alopex.Error.'


def setup(sb):
    sb.start_bus()
    sb.start_polkit()
    start_linkd(sb)


def start_linkd(sb, started=True):
    """(Re)starts linkd on the sandbox's bus; waits for READY=1 and its name, then (unless
    started=False) for the end of its Startup (routes in, first profile round answered)."""
    sb.linkd_starts = getattr(sb, 'linkd_starts', 0) + 1
    name = 'alopex-linkd' if sb.linkd_starts == 1 else f'alopex-linkd-{sb.linkd_starts}'
    sb.linkd = sb.start_daemon('daemons/linkd/alopex-linkd', name=name, wait_name=SERVICE, notify=True,
                               env=sb.env({'ALOPEX_LOG_LEVEL': 'debug'}),
                               watchdog_usec=1000000)
    if started:
        wait_started(sb)


def kill_linkd(sb):
    """kill -9: no chance to clean up, as in a crash."""
    p = sb.linkd
    os.kill(p.pid, signal.SIGKILL)
    p.popen.wait()
    h.wait_until(lambda: not sb.name_has_owner(SERVICE), 10, 0.02, f'{SERVICE} released')


def full_table(sb, net):
    """600,000 routes of a routing daemon (protocol 186, via 10.NET.0.254, on a link of
    10.NET.0.0/24) in main: linkd's route dump after READY=1 then takes 0.1-0.2 s. Best
    added while linkd is stopped (it would follow each one); run without meson's
    MALLOC_PERTURB_, which makes ip -batch ten times slower. Taken out again with
    `ip route flush proto 186`."""
    with open(sb.path('bgp.batch'), 'w') as f:
        for i in range(600_000):
            f.write(f'route add 100.{64 + i // 65536}.{i // 256 % 256}.{i % 256}/32 via 10.{net}.0.254 proto 186\n')
    env = {k: v for k, v in sb.env().items() if k != 'MALLOC_PERTURB_'}
    rc, _, err = sb.run(['ip', '-batch', sb.path('bgp.batch')], env=env)
    h.check_eq(rc, 0, f'ip -batch: {err}')


def wait_started(sb, timeout=20):
    """Until linkd's Startup property is false."""
    h.wait_until(lambda: mprop(sb, 'Startup') is False, timeout, 0.005, 'linkd Startup == false')


def link_path(index):
    return f'{ROOT}/link/{index}'


def mprop(sb, name):
    return sb.get_property(SERVICE, ROOT, MANAGER, name)


def lprop(sb, index, name, as_user=None):
    return sb.get_property(SERVICE, link_path(index), LINK, name, as_user=as_user)


def wait_lprop(sb, index, name, want, timeout=10):
    def ok():
        try:
            v = lprop(sb, index, name)
        except RuntimeError:
            return False
        return want(v) if callable(want) else v == want
    return h.wait_until(ok, timeout, 0.02, f'{name} of link {index} == {want!r}')


def links(sb):
    return mprop(sb, 'Links')


def wait_link_object(sb, index, present=True, timeout=10):
    h.wait_until(lambda: (link_path(index) in links(sb)) == present, timeout, 0.02,
                 f'link object {index} {"present" if present else "gone"}')


def veth(sb, a, b):
    ip(sb, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b)
    return ifindex(sb, a), ifindex(sb, b)


def dbus_send(sb, method, *args, user=None, iface=MANAGER):
    """Calls a method of linkd's root object (the Manager's unless `iface` says) with
    dbus-send; args are dbus-send typed values ('int32:3', 'string:x', 'uint32:1500').
    Returns (ok, error name or '', text)."""
    return bus.dbus_send(sb, SERVICE, ROOT, iface, method, *args, user=user)
