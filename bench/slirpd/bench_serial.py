#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd on a slow serial line (issue 12): a line of 115200 bit/s 8N1 (11,520
octets a second each way), made by tests/harness' PPP peer reading and writing slirpd's
pty at that pace as a UART would, with the kernel's TCP behind it in a peer namespace.

- bulk: a download of --bytes random octets from a host service through the line; its
  TCP payload rate against the line's 11,520 octets a second. Target: >= 90 %.
- keystrokes: an interactive ssh session (ssh -tt, the remote tty echoing) typing a key
  every 100-150 ms while the same download runs; the time from a key written to its
  echo read. Target: p99 < 50 ms.

Each for slirpd paced to the line ([line] rate = 115200: its flow queue, short segments
and small windows), for slirpd unpaced (as issue 11 left it: every frame handed to the
pty at once, segments of the MTU), and for slirp4netns (libslirp) behind the same line
modelled with tbf (the line's octets a second, a 64 KiB queue as the pty's buffer) on a
veth between its namespace and the client's: slirp4netns has no serial line of its own.
All in the same run; medians of --runs for the rates. Nothing is asserted."""
import argparse
import os
import select
import shutil
import statistics
import subprocess
import sys
import threading
import tempfile
import time
import socket

SOURCE = os.environ.get('ALOPEX_SOURCE_DIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(SOURCE, 'tests', 'harness'))
sys.path.insert(0, os.path.join(SOURCE, 'tests', 'integration', 'slirpd'))
import alopex_harness as h  # noqa: E402
from alopex_peer import netns_holder  # noqa: E402
from slirpd_env import PeerNamespace, log_of, serve, start_slirpd, start_sshd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_slirpd import DOWNLOAD  # noqa: E402

LINE_BPS = 115200
LINE_OCTETS = LINE_BPS / 10



class Ssh:
    """ssh -tt in a namespace on pipes: a remote pty (its echo on) and no local one, so a
    key written comes back only as the remote tty's echo. -tt makes ssh interactive
    (TCP_NODELAY, each key sent at once)."""

    def __init__(self, sb, argv_prefix, key_dir, host, port):
        argv = argv_prefix + ['ssh', '-F', 'none', '-tt', '-i', f'{key_dir}/client', '-o', 'StrictHostKeyChecking=no',
                              '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30',
                              '-p', str(port), f'root@{host}', 'echo READY; exec cat >/dev/null']
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                     env=sb.env(), start_new_session=True)
        self.w, self.r = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        buf, deadline = b'', time.monotonic() + 60
        while b'READY' not in buf:   # the remote command runs
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                self.err.seek(0)
                raise RuntimeError(f'the ssh session never started: {buf!r} {self.err.read()[-2000:]!r}')
            buf += os.read(self.r, 4096)
        self.drain()

    def drain(self):
        while select.select([self.r], [], [], 0.3)[0]:
            os.read(self.r, 4096)

    def key(self, ch, timeout):
        """Seconds from writing `ch` to reading its echo; None after `timeout`."""
        t0 = time.monotonic()
        os.write(self.w, ch)
        buf = b''
        while True:
            left = timeout - (time.monotonic() - t0)
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                return None
            buf += os.read(self.r, 4096)
            if ch in buf:
                return time.monotonic() - t0

    def close(self):
        self.proc.kill()
        self.proc.wait()


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Path:
    """One way through a 115200 line: slirpd (paced or not) or slirp4netns."""

    def __init__(self, sb, name, argv, host, http_port, ssh_port, procs):
        self.sb, self.name, self.argv, self.host = sb, name, argv, host
        self.http_port, self.ssh_port, self.procs = http_port, ssh_port, procs

    def download(self, nbytes):
        r = subprocess.run(self.argv(['/usr/bin/python3', '-c', DOWNLOAD, self.host, str(self.http_port),
                                      str(nbytes)]), capture_output=True, text=True, timeout=600, env=self.sb.env())
        if len(r.stdout.split()) != 2:
            ours = [p for p in self.procs if hasattr(p, 'pid') and p.name.startswith(('alopex-slirpd', 'peer'))]
            for p in ours:
                p.stop()   # slirpd logs its counters
            logs = '\n'.join(log_of(p)[-3000:] for p in ours)
            raise RuntimeError(f'{self.name}: the download failed: {r.stderr}\n{logs}')
        got, secs = r.stdout.split()
        if int(got) != nbytes:
            raise RuntimeError(f'{self.name}: got {got} of {nbytes}: {r.stderr}')
        return int(got) / float(secs)


def slirpd_path(sb, name, paced):
    config = sb.path(f'{name}.toml')
    with open(config, 'w') as f:
        f.write('[ports]\n"10.0.0.1:22" = "127.0.0.1:2222"\n"10.0.0.1:80" = "127.0.0.1:8080"\n' +
                (f'[line]\nrate = {LINE_BPS}\n' if paced else ''))
    slirpd, pty_path = start_slirpd(sb, '--config', config, name=f'slirpd-{name}')
    ns = PeerNamespace(sb, name)
    peer = ns.spawn(f'peer-{name}', sb.build_path('bench/slirpd/bench-ppp-peer'), pty_path, 'ppp0', '--rate',
                    str(LINE_BPS))
    h.wait_until(lambda: 'up ' in log_of(peer), 60, 0.05, f'the peer of {name} up')
    return Path(sb, name, lambda argv: ns.argv(*argv), '10.0.0.1', 80, 22, [slirpd, peer])


def slirp4netns_path(sb, name):
    """slirp4netns in namespace S; the client in C behind a veth whose both ends are
    shaped to the line with tbf; S masquerades C to slirp4netns' 10.0.2.100."""
    s_ns = netns_holder(sb, f'{name}-s')
    c_ns = netns_holder(sb, f'{name}-c')
    rfd, wfd = os.pipe()
    s4 = sb.spawn(name, [shutil.which('slirp4netns'), '--configure', '--mtu=1500', f'--ready-fd={wfd}',
                         str(s_ns.pid), 'tap0'], pass_fds=(wfd,))
    os.close(wfd)
    with os.fdopen(rfd, 'rb') as r:
        r.read(1)

    def in_ns(holder, *argv):
        subprocess.run(['nsenter', '-t', str(holder.pid), '-n', *argv], check=True)
    in_ns(s_ns, 'ip', 'link', 'add', 'vs0', 'type', 'veth', 'peer', 'name', 'vc0')
    in_ns(s_ns, 'ip', 'link', 'set', 'vc0', 'netns', str(c_ns.pid))
    in_ns(s_ns, 'ip', 'addr', 'add', '10.9.0.1/30', 'dev', 'vs0')
    in_ns(s_ns, 'ip', 'link', 'set', 'vs0', 'up')
    in_ns(s_ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    in_ns(s_ns, 'nft', 'add table ip nat; add chain ip nat post { type nat hook postrouting priority 100; }; '
                       'add rule ip nat post oifname "tap0" masquerade')
    in_ns(c_ns, 'ip', 'link', 'set', 'lo', 'up')
    in_ns(c_ns, 'ip', 'addr', 'add', '10.9.0.2/30', 'dev', 'vc0')
    in_ns(c_ns, 'ip', 'link', 'set', 'vc0', 'up')
    in_ns(c_ns, 'ip', 'route', 'add', 'default', 'via', '10.9.0.1')
    for holder, dev in ((s_ns, 'vs0'), (c_ns, 'vc0')):
        in_ns(holder, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', f'{int(LINE_OCTETS * 8)}bit',
              'burst', '1600', 'limit', '65536')
    return Path(sb, name, lambda argv: ['nsenter', '-t', str(c_ns.pid), '-n', *argv], '10.0.2.2', 8080, 2222,
                [s4, s_ns, c_ns])


def measure(path, key_dir, args):
    rates = [path.download(args.bytes) for _ in range(args.runs)]
    ssh = Ssh(path.sb, path.argv([]), key_dir, path.host, path.ssh_port)
    idle = []
    for _ in range(10):
        idle.append(ssh.key(b'i', 10))
        time.sleep(0.1)
    result = {}

    def bulk():
        result['rate'] = path.download(args.bytes)
    t = threading.Thread(target=bulk)
    t.start()
    time.sleep(1)   # the download under way
    echoes, lost = [], 0
    letters = b'abcdefghijklmnopqrstuvwxyz'
    n = 0
    while t.is_alive():
        e = ssh.key(letters[n % 26:n % 26 + 1], 20)
        n += 1
        if e is None:
            lost += 1
            ssh.drain()
        else:
            echoes.append(e)
        time.sleep(0.1 + (n * 7919 % 50) / 1000)
    t.join()
    ssh.close()
    return {'rates': rates, 'idle': [x for x in idle if x is not None], 'echoes': echoes, 'lost': lost,
            'rate_with_keys': result.get('rate', 0)}


def report(name, m):
    rate = statistics.median(m['rates'])
    e = m['echoes']
    print(f'  {name:34s} bulk {rate:8.0f} octets/s = {rate / LINE_OCTETS:5.3f} of the line '
          f'(runs: {", ".join(f"{r / LINE_OCTETS:.3f}" for r in m["rates"])})')
    if e:
        print(f'  {"":34s} keystroke echo during bulk: p50 {percentile(e, 50) * 1000:7.1f} ms, '
              f'p99 {percentile(e, 99) * 1000:7.1f} ms, max {max(e) * 1000:7.1f} ms ({len(e)} keys, '
              f'{m["lost"]} not echoed in 20 s); idle p50 {percentile(m["idle"], 50) * 1000:.1f} ms; '
              f'bulk with keys {m["rate_with_keys"] / LINE_OCTETS:5.3f}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build-dir', default=os.environ.get('ALOPEX_BUILD_DIR', os.path.join(SOURCE, 'build-bench')))
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--bytes', type=int, default=256 << 10)
    ap.add_argument('--only', choices=['paced', 'unpaced', 'slirp4netns'], action='append')
    args = ap.parse_args()
    h.enter_namespaces()
    with h.Sandbox(name='bench-slirpd-serial', build_dir=args.build_dir, source_dir=SOURCE) as sb:
        sb.start_bus()
        key_dir = start_sshd(sb)
        data = os.urandom(args.bytes)

        def source(c):
            try:
                c.sendall(data)
            except OSError:
                pass
            c.close()
        serve(sb, socket.create_server(('127.0.0.1', 8080), backlog=64), source)
        print(f'a {LINE_BPS} bit/s 8N1 line ({LINE_OCTETS:.0f} octets/s each way), {args.bytes} random octets '
              f'down, median of {args.runs}; targets: bulk >= 0.90 of the line, echo p99 < 50 ms (paced slirpd)')
        modes = args.only or ['paced', 'unpaced', 'slirp4netns']
        for mode in modes:
            if mode == 'slirp4netns':
                if not shutil.which('slirp4netns'):
                    print('  slirp4netns: not installed (Debian package slirp4netns)')
                    continue
                path = slirp4netns_path(sb, 's4n')
                label = 'slirp4netns, tbf line, MTU 1500'
            else:
                path = slirpd_path(sb, mode, mode == 'paced')
                label = f'alopex-slirpd, {mode}'
            m = measure(path, key_dir, args)
            report(label, m)
            for p in path.procs:
                p.stop()
                said = [line for line in log_of(p).splitlines() if 'stopping; counters:' in line] \
                    if hasattr(p, 'name') and p.name.startswith('alopex-slirpd') else []
                if said:
                    keep = ('tcp-retransmits', 'tcp-timeouts', 'tcp-sack-recoveries', 'queued-packets', 'queue-drops',
                            'queue-delay-max-usec', 'line-dropped', 'frames-in', 'frames-out', 'lcp-packets-in',
                            'ipcp-packets-in', 'ccp-packets-in', 'protocol-rejects', 'bad-frames', 'fcs-errors')
                    c = dict(kv.split('=') for kv in said[-1].split('counters:')[1].split() if '=' in kv)
                    print(f'  {"":34s} slirpd: ' + ' '.join(f'{k}={c[k]}' for k in keep if k in c))
            sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
