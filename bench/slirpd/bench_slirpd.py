#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd's benchmarks (issue 11), in throwaway namespaces:

- bulk: a TCP download through slirpd on a pty with no pacing (a host service on
  127.0.0.1 sends BYTES through a port map), against the raw copy rate of a pty pair
  measured in the same run (bench-pty-copy). The peer is bench-bulk-peer: PPP and TCP in
  one C++ process (slirpd's own engines in the client's role), fast enough not to be the
  bottleneck. Target: >= 80 % of the raw rate. For comparison, the same download by the
  kernel's TCP (a python client in a peer namespace, behind tests/harness' PPP peer on a
  tun device), which costs more CPU on this side of the pty than slirpd does.
- CPU per GiB moved: slirpd's CPU seconds for those kernel-TCP downloads, against
  slirp4netns (libslirp) moving the same bytes from the same host service to the same
  python client in a network namespace of its own (tap, MTU 1500), measured in the same
  run. (slirpd's peer here is test infrastructure standing in for the remote pppd and
  kernel; its CPU is reported apart.)
- connections: N concurrent TCP connections through one slirpd, all established and
  held; slirpd's VmRSS and VmHWM then. Target: 10,000 in < 64 MB.

Medians of --runs runs; nothing is asserted."""
import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

SOURCE = os.environ.get('ALOPEX_SOURCE_DIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(SOURCE, 'tests', 'harness'))
sys.path.insert(0, os.path.join(SOURCE, 'tests', 'integration', 'slirpd'))
import alopex_harness as h  # noqa: E402
from alopex_peer import netns_holder  # noqa: E402
from slirpd_env import PeerNamespace, log_of, serve, start_slirpd  # noqa: E402

CHUNK = b'\0' * (1 << 20)

# A download by the kernel's TCP: HOST PORT BYTES; prints the octets and the seconds from
# the first octet (bench_serial.py uses it too).
DOWNLOAD = """
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=120)
buf = bytearray(1 << 20)
got = 0
t0 = time.monotonic()
while True:
    k = s.recv_into(buf)
    if not k:
        break
    if got == 0:
        t0 = time.monotonic()   # from the first octet: the handshake is not the rate
    got += k
print(got, time.monotonic() - t0)
"""

HOLD = """
import resource, socket, sys
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
n = int(sys.argv[1])
conns = []
for i in range(n):
    conns.append(socket.create_connection(('10.0.0.1', 7), timeout=30))
print('open', len(conns), flush=True)
sys.stdin.read()
"""


def mib(n):
    return n / (1 << 20)


def proc_status(pid, key):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    return 0


def pty_rate(sb, nbytes):
    out = subprocess.run([sb.build_path('bench/slirpd/bench-pty-copy'), str(nbytes)], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[1]) / float(out[2])


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def link(sb, name, config_text):
    config = sb.path(f'{name}.toml')
    with open(config, 'w') as f:
        f.write(config_text)
    slirpd, pty = start_slirpd(sb, '--config', config, name=f'slirpd-{name}')
    ns = PeerNamespace(sb, f'peer-{name}')
    peer = ns.spawn(f'peer-{name}', sb.build_path('bench/slirpd/bench-ppp-peer'), pty, 'ppp0')
    h.wait_until(lambda: 'up ' in log_of(peer), 20, 0.05, 'the peer up')
    return slirpd, ns, peer


def bulk_cxx(sb, args):
    """One download by bench-bulk-peer through a fresh slirpd: (bytes/s, slirpd CPU s, peer CPU s)."""
    config = sb.path('bulk-cxx.toml')
    with open(config, 'w') as f:
        f.write('[ports]\n"10.0.0.1:80" = "127.0.0.1:8080"\n' +
                (f'[limits]\nbuffer = {args.buffer}\n' if args.buffer else ''))
    bulk_cxx.n = getattr(bulk_cxx, 'n', 0) + 1
    slirpd, pty = start_slirpd(sb, '--config', config, name=f'slirpd-cxx{bulk_cxx.n}')
    c0 = cpu_seconds(slirpd.pid)
    out = subprocess.run([sb.build_path('bench/slirpd/bench-bulk-peer'), pty, str(args.bytes)], capture_output=True,
                         text=True, timeout=300)
    cpu = cpu_seconds(slirpd.pid) - c0
    slirpd.stop()
    w = out.stdout.split()
    if out.returncode != 0 or len(w) < 5 or int(w[1]) < args.bytes:
        raise RuntimeError(f'bench-bulk-peer: {out.stdout} {out.stderr}')
    return int(w[1]) / float(w[2]), cpu, float(w[4])


def slirp4netns_download(sb, args, n):
    """One download by the kernel's TCP through slirp4netns: (bytes/s, slirp4netns CPU s)."""
    exe = shutil.which('slirp4netns')
    holder = netns_holder(sb, f'slirp4netns-ns{n}')
    rfd, wfd = os.pipe()
    s4 = sb.spawn(f'slirp4netns{n}', [exe, '--configure', '--mtu=1500', f'--ready-fd={wfd}', str(holder.pid), 'tap0'],
                  pass_fds=(wfd,))
    os.close(wfd)
    with os.fdopen(rfd, 'rb') as r:
        r.read(1)
    ns = ['nsenter', '-t', str(holder.pid), '-n']
    c0 = cpu_seconds(s4.pid)
    out = subprocess.run(ns + ['/usr/bin/python3', '-c', DOWNLOAD, '10.0.2.2', '8080',
                               str(args.bytes)], capture_output=True, text=True, timeout=300, env=sb.env())
    cpu = cpu_seconds(s4.pid) - c0
    s4.stop()
    holder.stop()
    got, secs = out.stdout.split()
    if int(got) != args.bytes:
        raise RuntimeError(f'slirp4netns: got {got} of {args.bytes}: {out.stderr}')
    return int(got) / float(secs), cpu


def bulk(sb, args):
    def source(c):
        left = args.bytes
        try:
            while left > 0:
                k = c.send(CHUNK[:min(left, len(CHUNK))])
                left -= k
        except OSError:
            pass
        c.close()
    serve(sb, socket.create_server(('127.0.0.1', 8080)), source)
    limits = f'[limits]\nbuffer = {args.buffer}\n' if args.buffer else ''
    slirpd, ns, peer = link(sb, 'bulk', '[ports]\n"10.0.0.1:80" = "127.0.0.1:8080"\n' + limits)
    raw, through, cpu_slirpd, cpu_peer = [], [], [], []
    cxx, cxx_slirpd, cxx_peer = [], [], []
    for _ in range(args.runs):
        raw.append(pty_rate(sb, args.bytes))
        rate, cs, cp = bulk_cxx(sb, args)
        cxx.append(rate)
        cxx_slirpd.append(cs)
        cxx_peer.append(cp)
        c0, p0 = cpu_seconds(slirpd.pid), cpu_seconds(peer.pid)
        r = ns.run('/usr/bin/python3', '-c', DOWNLOAD, '10.0.0.1', '80', str(args.bytes))
        cpu_slirpd.append(cpu_seconds(slirpd.pid) - c0)
        cpu_peer.append(cpu_seconds(peer.pid) - p0)
        got, secs = r.stdout.split()
        if int(got) != args.bytes:
            raise RuntimeError(f'bulk: got {got} of {args.bytes} bytes: {r.stderr}')
        through.append(int(got) / float(secs))
    s4_rate, s4_cpu = [], []
    if shutil.which('slirp4netns'):
        for i in range(args.runs):
            rate, cpu = slirp4netns_download(sb, args, i)
            s4_rate.append(rate)
            s4_cpu.append(cpu)
    praw, pthrough, pcxx = statistics.median(raw), statistics.median(through), statistics.median(cxx)
    print(f'bulk {mib(args.bytes):.0f} MiB, median of {args.runs}:')
    print(f'  raw pty copy                 {mib(praw):8.1f} MiB/s')
    print(f'  through slirpd, C++ peer     {mib(pcxx):8.1f} MiB/s  (TCP payload)   ratio {pcxx / praw:.2f} '
          f'(target >= 0.80)')
    print(f'    CPU per run                slirpd {statistics.median(cxx_slirpd):.2f} s, '
          f'peer {statistics.median(cxx_peer):.2f} s')
    print(f'  through slirpd, kernel TCP   {mib(pthrough):8.1f} MiB/s  (tun peer, python client)   ratio '
          f'{pthrough / praw:.2f}')
    print(f'    CPU per run                slirpd {statistics.median(cpu_slirpd):.2f} s, '
          f'tun peer {statistics.median(cpu_peer):.2f} s')
    gib = args.bytes / (1 << 30)
    ours = statistics.median(cpu_slirpd) / gib
    print(f'CPU seconds per GiB moved (the kernel-TCP download above, median of {args.runs}):')
    print(f'  alopex-slirpd                {ours:8.2f} s/GiB  (its tun peer: {statistics.median(cpu_peer) / gib:.2f})')
    if s4_cpu:
        theirs = statistics.median(s4_cpu) / gib
        print(f'  slirp4netns (libslirp)       {theirs:8.2f} s/GiB  ({mib(statistics.median(s4_rate)):.1f} MiB/s)')
        print(f'  ratio slirp4netns / slirpd   {theirs / ours:8.2f}')
    else:
        print('  slirp4netns: not installed (Debian package slirp4netns)')


def connections(sb, args):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.connections + 100:
        print(f'connections: the hard limit of open files ({hard}) is below {args.connections}: skipped')
        return
    held = []
    serve(sb, socket.create_server(('127.0.0.1', 7000), backlog=4096), held.append)
    n = args.connections
    slirpd, ns, _ = link(sb, 'conns', '[ports]\n"10.0.0.1:7" = "127.0.0.1:7000"\n'
                      f'[limits]\nconnections = {n + 100}\nconnections_per_port = {n + 100}\n')
    rss0 = proc_status(slirpd.pid, 'VmRSS')
    client = subprocess.Popen(ns.argv('/usr/bin/python3', '-c', HOLD, str(n)), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=sb.env())
    t0 = time.monotonic()
    line = client.stdout.readline()
    took = time.monotonic() - t0
    if not line.startswith('open'):
        client.kill()
        raise RuntimeError(f'connections: the client said {line!r}')
    h.wait_until(lambda: len(held) >= n, 60, 0.1, f'{n} connections at the host service')
    rss, hwm = proc_status(slirpd.pid, 'VmRSS'), proc_status(slirpd.pid, 'VmHWM')
    client.stdin.close()
    client.wait(60)
    print(f'connections: {n} opened in {took:.1f} s and held through one slirpd')
    print(f'  slirpd VmRSS        {mib(rss):8.1f} MiB  (before: {mib(rss0):.1f} MiB; target < 64 MB)')
    print(f'  slirpd VmHWM        {mib(hwm):8.1f} MiB')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build-dir', default=os.environ.get('ALOPEX_BUILD_DIR', os.path.join(SOURCE, 'build-bench')))
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--bytes', type=int, default=64 << 20)
    ap.add_argument('--connections', type=int, default=10000)
    ap.add_argument('--buffer', type=int, default=0, help="slirpd's [limits] buffer (default: its own)")
    ap.add_argument('--only', choices=['bulk', 'connections'])
    args = ap.parse_args()
    h.enter_namespaces()
    for part in (bulk, connections):
        if args.only and part.__name__ != args.only:
            continue
        with h.Sandbox(name=f'bench-slirpd-{part.__name__}', build_dir=args.build_dir, source_dir=SOURCE) as sb:
            part(sb, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
