#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-ovs-agentd's base OpenFlow flows ([flows] of alopex-ovs-agent.toml), as
alopex-ovs with the real broker (OpenOvsBridge: ovs-vswitchd's management socket of the
bridge), ovsdb-server and ovs-vswitchd (userspace datapath); checked with `ovs-ofctl
dump-flows`: NORMAL for all traffic and the configured IPv4 and IPv6 networks to LOCAL,
with the agent's cookies; a packet from a port to a punted network counts on its flow;
Reload swaps the networks (the old flow goes); after ovs-vswitchd restarts (it forgets
its flows) they are programmed again; a bad network in the file is refused on Reload with
file:line:col and the flows stay."""
import os
import signal

import alopex_dbus as bus
import alopex_harness as h
from alopex_peer import in_ns
from ovs_env import ofport, ping_from, start_stack, start_vswitchd, two_namespaces

tap = h.Tap()
CTX = {}
SERVICE, PATH, IFACE = 'org.alopex.PortAgent1', '/org/alopex/PortAgent1', 'org.alopex.PortAgent1'
BASE = 'bridge_name = "ovsbr6"\n[bridge]\ncreate = true\ndatapath_type = "netdev"\n[flows]\nenable = true\n'


def flows(sb):
    """dump-flows of ovsbr6 through its management socket, one flow a line."""
    rc, out, err = sb.run(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', f"unix:{CTX['dir']}/ovsbr6.mgmt"])
    return out if rc == 0 else f'error: {err}'


def has(sb, *fragments):
    text = flows(sb)
    return all(any(all(f in line for f in frag) for line in text.splitlines()) for frag in fragments)


def configure(local):
    with open(CTX['config'], 'w') as f:
        f.write(BASE + 'local = [' + ', '.join(f'"{n}"' for n in local) + ']\n')


def setup(sb):
    CTX['dir'], _ = start_stack(sb)
    CTX['config'] = os.path.join(sb.config_dir, 'ovs-agent.toml')
    configure(['10.55.0.0/24', 'fd55::/64'])
    sb.start_daemon('daemons/ovs-agentd/alopex-ovs-agentd', as_user='alopex-ovs', notify=True, wait_name=SERVICE)


NORMAL = ('cookie=0x616c6f7065780000', 'priority=0 ', 'actions=NORMAL')
LOCAL55 = ('cookie=0x616c6f7065780001', 'priority=100,ip,nw_dst=10.55.0.0/24', 'actions=LOCAL')
LOCAL55V6 = ('cookie=0x616c6f7065780001', 'priority=100,ipv6,ipv6_dst=fd55::/64', 'actions=LOCAL')


@tap.test('NORMAL and the local networks to LOCAL, with the agent\'s cookies (ovs-ofctl dump-flows)')
def _(sb):
    h.wait_until(lambda: has(sb, NORMAL, LOCAL55, LOCAL55V6), 15, 0.1, f'the base flows: {flows(sb)}')


@tap.test('a packet from a port to a punted network counts on its LOCAL flow')
def _(sb):
    first = two_namespaces(sb)
    h.wait_until(lambda: (ofport(sb, CTX['dir'], 'veth900i0') or 0) > 0, 10, 0.05, 'the port attached')
    in_ns(first, 'ip', 'route', 'add', '10.55.0.0/24', 'dev', 'c0')
    in_ns(first, 'ip', 'neigh', 'add', '10.55.0.5', 'lladdr', '02:00:00:00:55:05', 'dev', 'c0')
    ping_from(sb, first, '10.55.0.5', count=2)   # nobody answers; the packets go to LOCAL

    def counted():
        line = next((l for l in flows(sb).splitlines() if 'nw_dst=10.55.0.0/24' in l), '')
        return 'n_packets=0,' not in line and 'n_packets=' in line
    h.wait_until(counted, 10, 0.1, f'packets on the LOCAL flow: {flows(sb)}')


@tap.test('Reload swaps the networks: the old LOCAL flow goes, the new one comes, NORMAL stays')
def _(sb):
    configure(['10.66.0.0/16'])
    bus.expect_ok(bus.dbus_send(sb, SERVICE, PATH, IFACE, 'Reload'), 'Reload')
    h.wait_until(lambda: has(sb, NORMAL, ('priority=100,ip,nw_dst=10.66.0.0/16', 'actions=LOCAL'))
                 and 'nw_dst=10.55.0.0/24' not in flows(sb) and 'fd55::' not in flows(sb), 10, 0.1,
                 f'the new set: {flows(sb)}')


@tap.test('ovs-vswitchd restarted (its flows forgotten): programmed again')
def _(sb):
    vswitchd = next(p for p in sb.procs if p.name == 'ovs-vswitchd' and p.alive())
    os.kill(vswitchd.pid, signal.SIGKILL)
    vswitchd.popen.wait(10)
    start_vswitchd(sb, CTX['dir'])
    h.wait_until(lambda: has(sb, NORMAL, ('priority=100,ip,nw_dst=10.66.0.0/16', 'actions=LOCAL')), 30, 0.2,
                 f'the flows back: {flows(sb)}')


@tap.test('a bad network is refused on Reload (file:line:col), the flows stay')
def _(sb):
    with open(CTX['config'], 'w') as f:
        f.write(BASE + 'local = ["10.77.0.1/24"]\n')
    ok, name, text = bus.dbus_send(sb, SERVICE, PATH, IFACE, 'Reload')
    h.check(not ok and name == 'org.alopex.Error.InvalidArgument' and f"{CTX['config']}:7:" in text, text)
    h.check(has(sb, ('priority=100,ip,nw_dst=10.66.0.0/16', 'actions=LOCAL')), flows(sb))


h.main(tap, setup)
