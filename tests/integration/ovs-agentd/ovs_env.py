# SPDX-License-Identifier: GPL-2.0-or-later
"""What the ovs-agentd tests share: a private ovsdb-server (and ovs-vswitchd with the
userspace datapath) in a sandbox directory, ovs-vsctl against it, and a test driver
talked to over a socketpair (commands in, event lines out)."""
import os
import subprocess

import alopex_harness as h
from alopex_driver import Driver  # noqa: F401 (the tests and the bench use it from here)
from alopex_peer import in_ns, netns_holder


def create_db(sb):
    d = sb.path('ovs')
    os.makedirs(d)
    subprocess.run(['ovsdb-tool', 'create', f'{d}/conf.db', '/usr/share/openvswitch/vswitch.ovsschema'], check=True)
    return d


def start_ovsdb(sb, d):
    p = sb.spawn('ovsdb-server', ['ovsdb-server', f'{d}/conf.db', f'--remote=punix:{d}/db.sock',
                                  f'--unixctl={d}/ovsdb.ctl', '--no-chdir'])
    h.wait_until(lambda: os.path.exists(f'{d}/db.sock'), 10, 0.02, 'ovsdb-server listening')
    return p


def start_vswitchd(sb, d, system=False):
    """ovs-vswitchd on the sandbox's database, its sockets in `d`: the userspace datapath
    only (its devices live in the sandbox's network namespace), or with system=True the
    kernel's too (openvswitch.ko, in the test VM)."""
    return sb.spawn('ovs-vswitchd', ['ovs-vswitchd', f'unix:{d}/db.sock', *([] if system else ['--disable-system']),
                                     f'--unixctl={d}/vswitchd.ctl', '--no-chdir'], env=sb.env({'OVS_RUNDIR': d}))


def vsctl(sb, d, *args):
    rc, out, err = sb.run(['ovs-vsctl', f'--db=unix:{d}/db.sock', '--no-wait', '--timeout=10', *args])
    h.check_eq(rc, 0, f'ovs-vsctl {args}: {err}')
    return out


def veth(name, peer):
    """A veth pair, both ends up. `name` is created up in the same request: the agent may
    rename it (enable_rename) as soon as it appears, before a second `ip link set` could."""
    subprocess.run(['ip', 'link', 'add', name, 'up', 'type', 'veth', 'peer', 'name', peer], check=True)
    subprocess.run(['ip', 'link', 'set', peer, 'up'], check=True)


def ofport(sb, d, name):
    """The interface's ofport as ovs-vsctl reads it; None while it has none."""
    out = vsctl(sb, d, '--if-exists', 'get', 'Interface', name, 'ofport').strip()
    return int(out) if out not in ('', '[]') else None


def start_stack(sb, system=False, recorders=('alopex-ovs',)):
    """What alopex-ovs-agentd runs beside: the private bus, polkitd, ovsdb-server and
    ovs-vswitchd (IPv6 off in the sandbox: autoconf multicast from many veths floods the
    userspace datapath), the broker ([ovsdb] for alopex-ovs, [record] for `recorders`) and
    linkd. Returns (the database's directory, the ovsdb-server process)."""
    sb.start_bus()
    subprocess.run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
                   check=True)
    sb.start_polkit()
    d = create_db(sb)
    ovsdb = start_ovsdb(sb, d)
    vsctl(sb, d, 'init')
    start_vswitchd(sb, d, system=system)
    callers = ', '.join(f'"{r}"' for r in recorders)
    sb.start_broker(f'[ovsdb]\nsocket = "{d}/db.sock"\ncallers = ["alopex-ovs"]\n\n[record]\ncallers = [{callers}]\n')
    sb.start_daemon('daemons/linkd/alopex-linkd', wait_name='org.alopex.Link1', notify=True, watchdog_usec=5000000)
    return d, ovsdb


def two_namespaces(sb, ports=('veth900i0', 'veth901i0')):
    """Two namespaces, each a veth's peer with 10.77.0.1/24 and 10.77.0.2/24, the veths
    (`ports`) up in the sandbox's namespace; returns the first namespace's holder."""
    holders = []
    for i, port in enumerate(ports):
        holder = netns_holder(sb, f'ns-{port}')
        subprocess.run(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'c0', 'netns', str(holder.pid)],
                       check=True)
        in_ns(holder, 'ip', 'addr', 'add', f'10.77.0.{i + 1}/24', 'dev', 'c0')
        in_ns(holder, 'ip', 'link', 'set', 'c0', 'up')
        subprocess.run(['ip', 'link', 'set', port, 'up'], check=True)
        holders.append(holder)
    return holders[0]


def ping_from(sb, holder, target, count=3):
    """busybox ping in the holder's namespace; (rc, output)."""
    rc, out, err = sb.run(['nsenter', '-t', str(holder.pid), '-n', 'busybox', 'ping', '-c', str(count), '-W', '2',
                           target])
    return rc, out + err


def gateway(sb, nic, brd=False):
    """`nic`, a veth whose peer in a gateway namespace holds 10.88.0.1/24 (and 10.99.0.1 on
    its loopback): 10.88.0.2/24 on it, a static default route via the gateway."""
    gw = netns_holder(sb, 'gateway')
    subprocess.run(['ip', 'link', 'add', nic, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', str(gw.pid)], check=True)
    in_ns(gw, 'ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'gw0')
    in_ns(gw, 'ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'lo')
    in_ns(gw, 'ip', 'link', 'set', 'gw0', 'up')
    in_ns(gw, 'ip', 'link', 'set', 'lo', 'up')
    subprocess.run(['ip', 'addr', 'add', '10.88.0.2/24', *(['brd', '+'] if brd else []), 'dev', nic], check=True)
    subprocess.run(['ip', 'link', 'set', nic, 'up'], check=True)
    subprocess.run(['ip', 'route', 'add', 'default', 'via', '10.88.0.1', 'dev', nic, 'proto', 'static'], check=True)
    return gw
