# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of the linkd daemon tests: the daemon (as root, on the private bus, with
polkitd and sd_notify), and independent views of the kernel (`ip -j`) and of the bus
(busctl for values, dbus-send for error names: busctl prints only error messages)."""
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
