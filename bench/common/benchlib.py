# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared parts of the linkd benchmark drivers (bench/linkd_start, bench/linkd_profiles).

The world is the integration-test harness's (tests/harness/alopex_harness.py): the driver
re-executes itself in fresh network, mount and PID namespaces, with a tmpfs sandbox and a
private system-style dbus-daemon. Timing is done by bench-measure (bench/tools), which
starts the program under test and reads the clock where READY=1 or the kernel's address
events arrive. Python stdlib only (Debian's /usr/bin/python3)."""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get('ALOPEX_SOURCE_DIR') or os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(SOURCE_DIR, 'tests', 'harness'))

import alopex_harness as h  # noqa: E402

NETWORKD = '/lib/systemd/systemd-networkd'
NETWORK1_CONF = '/usr/share/dbus-1/system.d/org.freedesktop.network1.conf'


def parse_args(description, runs=7, extra=None):
    """Common options: --build-dir (default $ALOPEX_BUILD_DIR), --runs, --no-networkd."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--build-dir', default=os.environ.get('ALOPEX_BUILD_DIR'),
                   help='meson build directory (default: $ALOPEX_BUILD_DIR)')
    p.add_argument('--runs', type=int, default=runs, help=f'runs of each contender (default {runs})')
    p.add_argument('--no-networkd', action='store_true', help='leave systemd-networkd out')
    if extra:
        extra(p)
    a = p.parse_args()
    if not a.build_dir:
        p.error('give --build-dir or set ALOPEX_BUILD_DIR')
    a.build_dir = os.path.abspath(a.build_dir)
    if a.runs < 1:
        p.error('--runs must be at least 1')
    for rel in ('bench/tools/bench-measure', 'daemons/linkd/alopex-linkd'):
        if not os.path.exists(os.path.join(a.build_dir, rel)):
            p.error(f'{rel} is not built in {a.build_dir} (ninja -C {a.build_dir})')
    return a


def enter(args):
    """Re-executes the driver in private namespaces (root only); returns inside them."""
    if os.geteuid() != 0:
        sys.exit('the benchmarks need root (network and mount namespaces)')
    os.environ['ALOPEX_BUILD_DIR'] = args.build_dir
    os.environ['ALOPEX_SOURCE_DIR'] = SOURCE_DIR
    h.enter_namespaces()
    # Belt and braces: refuse to run anywhere with links other than lo.
    out = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True).stdout
    if not out.strip() or [l for l in out.splitlines() if ': lo:' not in l]:
        sys.exit('not in a fresh network namespace; refusing to run')


def sh(argv, **kw):
    """Runs a command that must succeed; returns its stdout."""
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f'{" ".join(argv)} failed ({r.returncode}): {r.stderr.strip()}')
    return r.stdout


def ip_batch(sb, name, lines):
    """Writes lines to a batch file in the sandbox; runs `ip -batch` on it; returns the path."""
    path = batch_file(sb, name, lines)
    sh(['ip', '-batch', path])
    return path


def batch_file(sb, name, lines):
    path = sb.path('tmp', f'{name}.batch')
    with open(path, 'w') as f:
        f.write(''.join(l + '\n' for l in lines))
    return path


def measure(sb, args, argv, env=None, log='measured'):
    """Runs bench-measure with argv (the measured program's output goes to log/<log>.log
    in the sandbox); returns its key=value result as a dict of floats (plus 'status': the
    daemon's last STATUS= text, when it was watched)."""
    exe = os.path.join(args.build_dir, 'bench', 'tools', 'bench-measure')
    log_path = sb.path('log', f'{log}.log')
    with open(log_path, 'w'):
        pass
    r = subprocess.run([exe, argv[0], '--log', log_path, *argv[1:]], capture_output=True, text=True,
                       env=env or sb.env(), timeout=300)
    if r.returncode != 0:
        with open(log_path, errors='replace') as f:
            tail = '\n'.join(f.read().splitlines()[-30:])
        raise RuntimeError(f'bench-measure {" ".join(argv)}: {r.stderr.strip()}\n--- its log ---\n{tail}')
    lines = r.stdout.splitlines()
    out = {k: float(v) for k, v in (kv.split('=', 1) for kv in lines[0].split())}
    if len(lines) > 1 and lines[1].startswith('STATUS='):
        out['status'] = lines[1][len('STATUS='):]
    return out


def isolate_networkd(sb, network_files=None):
    """Makes systemd-networkd safe to run in this (private) mount namespace: tmpfs over
    /run/systemd (its netif state and our .network files in /run/systemd/network),
    /etc/systemd/network, /usr/lib/systemd/network and /var/lib/systemd (no host
    configuration read, nothing of the host written), and a read-only sysfs of this
    network namespace over /sys (so networkd sees our links and, as in a container, does
    not wait for udev, which does not run here). Its bus is the sandbox's private bus."""
    for d in ('/run/systemd', '/etc/systemd/network', '/usr/lib/systemd/network', '/var/lib/systemd'):
        if os.path.isdir(d):
            sb._mount(['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', d], d)
    sb._mount(['-t', 'sysfs', '-o', 'ro', 'sysfs', '/sys'], '/sys')
    os.makedirs('/run/systemd/network', exist_ok=True)
    for name, text in (network_files or {}).items():
        with open(os.path.join('/run/systemd/network', name), 'w') as f:
            f.write(text)


def networkd_argv():
    """The networkd command line, after checking that isolate_networkd() is in force in
    this mount namespace (the top mounts of its paths are ours): never run it without."""
    top = {}
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            top[fields[4]] = (fields[sep + 1], fields[5])   # later lines are mounted on top
    want = {'/run/systemd': 'tmpfs', '/etc/systemd/network': 'tmpfs', '/sys': 'sysfs'}
    for path, fstype in want.items():
        got = top.get(path)
        if not got or got[0] != fstype or (path == '/sys' and 'ro' not in got[1].split(',')):
            raise RuntimeError(f'refusing to run systemd-networkd: {path} is not our {fstype} ({got})')
    return [NETWORKD]


def reset_networkd_state():
    """A fresh /run/systemd/netif for the next networkd start (it is on our tmpfs)."""
    subprocess.run(['rm', '-rf', '/run/systemd/netif'], check=True)


def median(values):
    return statistics.median(values)


def runs_text(values, fmt='{:.1f}'):
    return ' '.join(fmt.format(v) for v in values)


def ratio(a, b):
    return a / b if b else float('nan')


def start_linkd(sb, args, name):
    """Starts alopex-linkd on the sandbox's bus and waits for READY=1 (so its first dump
    is in); a thread drains its notify socket (sd_notify blocks on a full queue) until
    stop() is called. Returns (proc, stop)."""
    import threading
    p = sb.start_daemon('daemons/linkd/alopex-linkd', name=name, wait_name='org.alopex.Link1', notify=True,
                        env=sb.env({'ALOPEX_LOG_LEVEL': 'info'}), watchdog_usec=5000000)
    done = threading.Event()

    def drain():
        while not done.wait(0.05):
            try:
                p.notify.drain()
            except OSError:
                return
    t = threading.Thread(target=drain, daemon=True)
    t.start()

    def stop():
        p.stop()
        done.set()
        t.join()
    return p, stop


def wait_names_gone(sb, names=('org.alopex.Link1', 'org.freedesktop.network1'), timeout=10):
    """Waits until the daemons of the previous run have left the private bus: a daemon
    stopped with SIGTERM has exited, but the bus may not have seen its disconnect yet,
    and the next one must be able to own its name."""
    for name in names:
        h.wait_until(lambda: not sb.name_has_owner(name), timeout, 0.01, f'{name} released')


def create_links(sb, links):
    """links/2 veth pairs (down), one IPv4 address on each link; returns (links, addresses)."""
    pairs = links // 2
    lines = [f'link add sa{i} type veth peer name sb{i}' for i in range(pairs)]
    lines += [f'addr add 10.{100 + i // 250}.{i % 250}.1/24 dev sa{i}' for i in range(pairs)]
    lines += [f'addr add 10.{150 + i // 250}.{i % 250}.1/24 dev sb{i}' for i in range(pairs)]
    ip_batch(sb, 'create', lines)
    count = len(sh(['ip', '-o', 'link', 'show']).splitlines()) - 1   # without lo
    addrs = len(sh(['ip', '-4', '-o', 'addr', 'show']).splitlines()) - 1
    if count != 2 * pairs or addrs != 2 * pairs:
        raise RuntimeError(f'created {count} links and {addrs} addresses, wanted {2 * pairs} of each')
    return count, addrs


def install_routes(sb, v4, v6):
    """A routing daemon's table in main: /24s from 11.0.0.0 on and /48s in 2001:db8::/32's
    neighbourhood (3fff::/20), protocol bgp, via a gateway on the veth pair rt0/rt1."""
    lines = ['link add rt0 type veth peer name rt1', 'link set rt0 up', 'link set rt1 up',
             'addr add 192.0.2.1/24 dev rt0', 'addr add 2001:db8::1/64 dev rt0 nodad']
    for i in range(v4):
        a = 0x0b000000 + i * 256
        lines.append(f'route add {a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.0/24 via 192.0.2.254 dev rt0 proto bgp')
    for i in range(v6):
        lines.append(f'route add 3fff:{i >> 16:x}:{i & 0xffff:x}::/48 via 2001:db8::fe dev rt0 proto bgp')
    ip_batch(sb, 'routes', lines)
    n4 = count_routes('-4')
    n6 = count_routes('-6')
    if n4 < v4 or n6 < v6:
        raise RuntimeError(f'installed {n4} IPv4 and {n6} IPv6 routes, wanted {v4} and {v6}')
    return n4, n6


def count_routes(family):
    out = subprocess.run(['ip', family, 'route', 'show', 'table', 'main'], capture_output=True, check=True)
    return out.stdout.count(b'\n')
