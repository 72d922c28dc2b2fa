# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of the fwd daemon tests: alopex-fwd (as root, on the private bus, with
polkitd and sd_notify) over a test firewall.toml, and independent views of the kernel
(`nft -j`, `ip -j`) and of the bus (busctl for values, dbus-send for error names)."""
import os

import alopex_dbus as bus
import alopex_harness as h
import alopex_kernel as k
from alopex_dbus import expect_error, expect_ok  # noqa: F401 (re-exported)
from alopex_kernel import ip, nft_j  # noqa: F401 (re-exported)

SERVICE = 'org.alopex.Firewall1'
ROOT = '/org/alopex/Firewall1'
IFACE = 'org.alopex.Firewall1'
E = 'org.alopex.Error.'
UINT64_MAX = 2 ** 64 - 1

CONFIG = '''# SPDX-License-Identifier: GPL-2.0-or-later
default_zone = "lan"

[sets]
management = ["192.0.2.0/24", "2001:db8:1::/48"]

[zones.wan]
interfaces = ["tw*"]
input = "drop"
forward = "drop"
masquerade = true

[[zones.wan.rules]]
proto = "tcp"
dport = [22, 9090]
saddr = "@management"
action = "accept"
comment = "management console"

[[zones.wan.rules]]
proto = "tcp"
dport = 443
daddr = "@self"
action = "accept"
comment = "https to our own addresses"

[[zones.wan.rules]]
proto = "icmp"
icmp_type = ["echo-request"]
action = "accept"

[[zones.wan.forwards]]
proto = "tcp"
dport = 8080
to = "10.1.0.5:80"

[zones.lan]
interfaces = ["tl*"]
input = "accept"
forward = "drop"
'''


def write_config(sb, text=CONFIG):
    with open(os.path.join(sb.config_dir, 'firewall.toml'), 'w') as f:
        f.write(text)


def foreign_table(sb):
    """A table of another tool, with a rule and a set: it must survive everything."""
    script = ('table ip foreign {\n'
              '  set blocked { type ipv4_addr; elements = { 198.51.100.7, 198.51.100.8 } }\n'
              '  chain input { type filter hook input priority 10; policy accept;\n'
              '    ip saddr @blocked counter drop\n'
              '    tcp dport 6000 accept comment "x11"\n'
              '  }\n'
              '}\n')
    rc, _, err = sb.run(['nft', '-f', '-'], input=script)
    h.check_eq(rc, 0, f'nft -f foreign: {err}')


def setup(sb, config=CONFIG):
    ip(sb, 'link', 'add', 'tw0', 'type', 'veth', 'peer', 'name', 'tl0')
    ip(sb, 'link', 'set', 'tw0', 'up')
    ip(sb, 'link', 'set', 'tl0', 'up')
    ip(sb, 'addr', 'add', '203.0.113.1/24', 'dev', 'tw0')
    foreign_table(sb)
    sb.foreign_before = nft_j(sb, 'list', 'table', 'ip', 'foreign')
    write_config(sb, config)
    sb.start_bus()
    sb.start_polkit()
    start_fwd(sb)


def start_fwd(sb, env=None):
    """(Re)starts fwd on the sandbox's bus; waits for READY=1 and its name."""
    sb.fwd_starts = getattr(sb, 'fwd_starts', 0) + 1
    name = 'alopex-fwd' if sb.fwd_starts == 1 else f'alopex-fwd-{sb.fwd_starts}'
    # ALOPEX_START_TIMEOUT: seconds to READY=1, for slow places (the emulated test VM
    # running a sanitizer build); 20 elsewhere.
    timeout = float(os.environ.get('ALOPEX_START_TIMEOUT', '20'))
    sb.fwd = sb.start_daemon('daemons/fwd/alopex-fwd', name=name, wait_name=SERVICE, notify=True,
                             env=env or sb.env({'ALOPEX_LOG_LEVEL': 'debug'}),
                             watchdog_usec=1000000, timeout=timeout)
    return sb.fwd


def start_fwd_as_fw_user(sb):
    """Starts fwd the way its unit does: user alopex-fw, group alopex, CAP_NET_ADMIN as
    the only (ambient and bounding) capability; the state directory is made its own."""
    uid, gid = sb.user('alopex-fw')
    os.chown(sb.state_dir, uid, gid)
    for f in os.listdir(sb.state_dir):
        os.chown(os.path.join(sb.state_dir, f), uid, gid)
    sb.fwd_starts = getattr(sb, 'fwd_starts', 0) + 1
    name = f'alopex-fwd-fw-{sb.fwd_starts}'
    ns = sb.notify_socket(name)
    os.chmod(ns.path, 0o777)
    env = sb.env({'ALOPEX_LOG_LEVEL': 'debug', 'NOTIFY_SOCKET': ns.path})
    argv = ['setpriv', f'--reuid={uid}', f'--regid={gid}', '--init-groups',
            '--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin',
            '--bounding-set=-all,+net_admin', '--', sb.build_path('daemons/fwd/alopex-fwd')]
    p = sb.spawn(name, argv, env=env)
    p.notify = ns
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=20, proc=p)
    sb.wait_for_name(SERVICE, 20, proc=p)
    sb.fwd = p
    return p


def table(sb):
    """`nft -j list table inet alopex` without metainfo."""
    return [o for o in nft_j(sb, 'list', 'table', 'inet', 'alopex') if 'metainfo' not in o]


def ruleset(sb):
    return [o for o in nft_j(sb, 'list', 'ruleset') if 'metainfo' not in o]


def normalized(objs):
    """A comparable, order-insensitive form of a list of nft JSON objects (handles,
    counter values, expiry countdowns and the table's flags left out: `owner` goes when
    the owning fwd dies and comes back with the next one)."""
    return k.nft_signature(objs, ordered=False)


def sets(sb):
    return {o['set']['name']: o['set'] for o in table(sb) if 'set' in o}


def maps(sb):
    return {o['map']['name']: o['map'] for o in table(sb) if 'map' in o}


def elements(s):
    """The elements of an nft JSON set as comparable text (element timeouts stripped)."""
    return [k.elem_text(e) for e in s.get('elem', [])]


def rules(sb):
    return [o['rule'] for o in table(sb) if 'rule' in o]


def prop(sb, name, as_user=None):
    return sb.get_property(SERVICE, ROOT, IFACE, name, as_user=as_user)


def call(sb, method, sig='', *args, as_user=None):
    return sb.call(SERVICE, ROOT, IFACE, method, sig, *args, as_user=as_user)


def dbus_send(sb, method, *args, user=None):
    """Calls a method with dbus-send ('string:x', 'uint32:1', 'uint64:3', 'boolean:true').
    Returns (ok, error name or '', text)."""
    return bus.dbus_send(sb, SERVICE, ROOT, IFACE, method, *args, user=user)


def add_rule(sb, spec, expires=0, comment=''):
    rc, data, err = call(sb, 'AddRule', 'sus', spec, expires, comment)
    h.check_eq(rc, 0, f'AddRule {spec!r}: {err}')
    return data[0]


def runtime_rules(sb):
    rc, data, err = call(sb, 'ListRuntimeRules')
    h.check_eq(rc, 0, f'ListRuntimeRules: {err}')
    return {r[0]: r for r in data[0]}
