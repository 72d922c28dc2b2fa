# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared parts of the fwd benchmark drivers (bench/fwd_nft): options, the private world
(bench/common/benchlib.py: network, mount and PID namespaces, tmpfs sandbox, private
dbus-daemon), alopex-fwd on that bus, nft helpers, and the result table. Python stdlib
only (Debian's /usr/bin/python3)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))

import benchlib  # noqa: E402
from benchlib import h, sh  # noqa: E402,F401

FWD = 'daemons/fwd/alopex-fwd'
# One zone "wan" on fw0 (address sets wan_addr4/6 follow its addresses), for the
# drivers that time address changes.
WAN_CONFIG = """\
[zones.wan]
interfaces = ["fw0"]
input = "drop"
forward = "drop"

[[zones.wan.rules]]
proto = "tcp"
dport = [22]
daddr = "@self"
action = "accept"
"""

SERVICE = 'org.alopex.Firewall1'
ROOT = '/org/alopex/Firewall1'


def parse_args(description, runs=5, extra=None, tools=()):
    """--build-dir (default $ALOPEX_BUILD_DIR), --runs, --no-fwd (only the nft side)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--build-dir', default=os.environ.get('ALOPEX_BUILD_DIR'),
                   help='meson build directory (default: $ALOPEX_BUILD_DIR)')
    p.add_argument('--runs', type=int, default=runs, help=f'runs of each contender (default {runs})')
    p.add_argument('--no-fwd', action='store_true',
                   help='measure only the alternative (also when alopex-fwd is not built)')
    if extra:
        extra(p)
    a = p.parse_args()
    if not a.build_dir:
        p.error('give --build-dir or set ALOPEX_BUILD_DIR')
    a.build_dir = os.path.abspath(a.build_dir)
    if a.runs < 1:
        p.error('--runs must be at least 1')
    for rel in tools:
        if not os.path.exists(os.path.join(a.build_dir, rel)):
            p.error(f'{rel} is not built in {a.build_dir} (ninja -C {a.build_dir})')
    if not a.no_fwd and not os.path.exists(os.path.join(a.build_dir, FWD)):
        print(f'# {FWD} is not built: measuring the alternative only', flush=True)
        a.no_fwd = True
    return a


def start_bus(sb):
    sb.start_bus()
    sb.start_polkit()   # every mutating call asks it (root is authorized by its defaults)


def write_config(sb, text):
    path = os.path.join(sb.config_dir, 'firewall.toml')
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.rename(path + '.tmp', path)


def start_fwd(sb, name='alopex-fwd', timeout=600):
    """alopex-fwd as root on the private bus, after READY=1; returns (proc, stop)."""
    import threading
    p = sb.start_daemon(FWD, name=name, wait_name=SERVICE, notify=True, timeout=timeout,
                        env=sb.env({'ALOPEX_LOG_LEVEL': 'info'}), watchdog_usec=60000000)
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
        p.stop(timeout=60)
        done.set()
        t.join()
        h.wait_until(lambda: not sb.name_has_owner(SERVICE), 10, 0.01, f'{SERVICE} released')
    return p, stop


def busctl_argv(sb, method, sig='', *args):
    argv = ['busctl', f'--address={sb.bus_address}', '--timeout=600', 'call', SERVICE, ROOT,
            SERVICE, method]
    if sig:
        argv += [sig, *[str(a) for a in args]]
    return argv


def timed(argv, input=None):
    """Runs argv (must succeed); returns (wall ms, stdout)."""
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=900)
    ms = (time.perf_counter() - t0) * 1000
    if r.returncode != 0:
        raise RuntimeError(f'{" ".join(argv[:6])}... failed ({r.returncode}): {r.stderr.strip()[:2000]}')
    return ms, r.stdout


def prop(sb, name):
    return sb.get_property(SERVICE, ROOT, SERVICE, name)


def histogram_text(hist):
    total = sum(c for _, c in hist)
    if not total:
        return 'empty'
    acc, p50, p99 = 0, None, None
    for bound, c in hist:
        acc += c
        if p50 is None and acc >= 0.5 * total:
            p50 = bound
        if p99 is None and acc >= 0.99 * total:
            p99 = bound
    fmt = lambda b: 'inf' if b >= 2 ** 63 else str(b)   # noqa: E731
    return f'{total} events, p50 <= {fmt(p50)} us, p99 <= {fmt(p99)} us (bucket bounds)'


def nft_tables(sb):
    out = json.loads(sh(['nft', '-j', 'list', 'tables']))['nftables']
    return [(t['table']['family'], t['table']['name']) for t in out if 'table' in t]


def delete_table(family, name):
    subprocess.run(['nft', 'delete', 'table', family, name], capture_output=True)


def copy_of_table(text, new_name):
    """`nft list table inet alopex` as a table of another name, without the owner/persist
    flags (nft 1.0.6 does not parse them) — the same ruleset for `nft -f`."""
    lines = text.splitlines()
    h.check(lines and lines[0].startswith('table inet alopex'), f'unexpected dump: {lines[:1]}')
    out = [f'table inet {new_name} {{']
    for line in lines[1:]:
        if line.startswith('\tflags') and not line.startswith('\t\t'):
            continue   # the table's flags line (one tab: table level; nft 1.0.6 prints
                       # `flags owner` for a live owner and an empty `flags ` for persist)
        out.append(line)
    return '\n'.join(out) + '\n'


def med(values):
    return statistics.median(values)


def row(name, values, unit='ms'):
    return f'{name:<44} {med(values):>10.1f} {unit}   runs: {benchlib.runs_text(values)}'


def ratio_line(what, a_name, a, b_name, b):
    r = benchlib.ratio(med(a), med(b))
    return f'{what}: {a_name} / {b_name} = {r:.2f}'
