# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of slirpd's integration tests (slirpd-ppp-kernel, slirpd-tcp, and
slirpd-pppd in the test VM): alopex-slirpd on a pty of its own, a peer network namespace
to run the other end of the link in, and the host services and clients used through it
(a private sshd and an interactive ssh session, an HTTP server and curl)."""
import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time

import alopex_harness as h
from alopex_peer import netns_holder

BIG = 16 << 20     # the file curl fetches through a clean link
SMALL = 4 << 20    # and through a lossy one


def log_of(p):
    with open(p.log_path, errors='replace') as f:
        return f.read()


def start_slirpd(sb, *args, timeout=20, name='slirpd'):
    """alopex-slirpd --pty ARGS, until READY=1; returns (its Proc, the pty it printed). In
    an ASan build freed memory is not quarantined (slirpd's RSS then says what it keeps;
    use-after-free checks stay on)."""
    ns = sb.notify_socket(name)
    asan = ':'.join(x for x in (os.environ.get('ASAN_OPTIONS', ''), 'quarantine_size_mb=0') if x)
    p = sb.spawn(f'alopex-{name}', [sb.build_path('daemons/slirpd/alopex-slirpd'), '--pty', *args],
                 env=sb.env({'NOTIFY_SOCKET': ns.path, 'ASAN_OPTIONS': asan}))
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=timeout, proc=p)
    pty = [l.split(': ', 1)[1] for l in log_of(p).splitlines() if l.startswith('pty: ')]
    h.check(pty, f'slirpd printed its pty: {log_of(p)}')
    return p, pty[0]


class PeerNamespace:
    """A network namespace for the peer's end; run() and spawn() work inside it."""

    def __init__(self, sb, name):
        self.sb = sb
        self.holder = netns_holder(sb, name)

    def argv(self, *argv):
        return ['nsenter', '-t', str(self.holder.pid), '-n', *argv]

    def run(self, *argv):
        return subprocess.run(self.argv(*argv), capture_output=True, text=True, env=self.sb.env(), timeout=60)

    def spawn(self, name, *argv):
        return self.sb.spawn(name, self.argv(*argv))


def sanitized(proc):
    """Whether the process is an ASan build (its maps show libasan)."""
    with open(f'/proc/{proc.pid}/maps') as f:
        return 'libasan' in f.read()


def vm_rss(proc):
    with open(f'/proc/{proc.pid}/status') as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith('VmRSS:'))


def serve(sb, listener, handle):
    """Accepts on `listener` (closed with the sandbox) in a thread; each connection goes to
    handle(conn) in a thread of its own."""
    sb.sockets.append(listener)

    def loop():
        while True:
            try:
                c, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def start_sshd(sb):
    """sshd on 127.0.0.1:2222 with keys of its own; returns the directory of the client key."""
    sshd = shutil.which('sshd') or '/usr/sbin/sshd'
    if not os.path.exists(sshd):
        raise h.Skip('sshd not installed (Debian package openssh-server)')
    d = sb.path('ssh')
    os.makedirs(d, mode=0o700)
    for key in ('host', 'client'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', f'{d}/{key}'], check=True)
    shutil.copy(f'{d}/client.pub', f'{d}/authorized_keys')
    # sshd needs its privilege-separation directory: a tmpfs on /run in our private
    # mount namespace (the host's /run is not touched).
    sb._mount(['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', '/run'], '/run')
    os.makedirs('/run/sshd', mode=0o755)
    with open(f'{d}/sshd_config', 'w') as f:
        f.write(f'ListenAddress 127.0.0.1:2222\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n'
                'UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPidFile none\n'
                'LogLevel VERBOSE\n')
    p = sb.spawn('sshd', [sshd, '-D', '-e', '-f', f'{d}/sshd_config'])
    h.wait_until(lambda: 'Server listening on 127.0.0.1 port 2222' in log_of(p), 10, 0.05, 'sshd listening')
    return d


def start_http(sb):
    """An HTTP server on 127.0.0.1:8080 serving /big (BIG random bytes) and /small (its
    first SMALL); returns their SHA-256s."""
    d = sb.path('www')
    os.makedirs(d)
    data = os.urandom(BIG)
    with open(f'{d}/big', 'wb') as f:
        f.write(data)
    with open(f'{d}/small', 'wb') as f:
        f.write(data[:SMALL])
    shas = hashlib.sha256(data).hexdigest(), hashlib.sha256(data[:SMALL]).hexdigest()
    sb.spawn('http', ['/usr/bin/python3', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', d, '8080'])
    h.wait_until(lambda: port_open(8080), 10, 0.05, 'the HTTP server listening')
    return shas


def serve_file(sb, bind, port, size, name='file'):
    """python3 -m http.server on bind:port serving NAME, `size` random bytes (in
    sandbox/www-PORT), until it listens; returns the file's SHA-256."""
    www = sb.path(f'www-{port}')
    os.makedirs(www)
    data = os.urandom(size)
    with open(os.path.join(www, name), 'wb') as f:
        f.write(data)
    sb.spawn(f'http-{port}', ['/usr/bin/python3', '-m', 'http.server', '--bind', bind, '--directory', www, str(port)])
    h.wait_until(lambda: subprocess.run(['ss', '-Hltn', f'sport = :{port}'], capture_output=True,
                                        text=True).stdout.strip(), 10, 0.05, f'the HTTP server on {bind}:{port}')
    return hashlib.sha256(data).hexdigest()


def port_open(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def ssh_session(sb, ns, d, host='10.0.0.1'):
    """An interactive shell through ssh -tt from the peer's namespace: typed lines run."""
    argv = ns.argv('ssh', '-F', 'none', '-tt', '-i', f'{d}/client', '-o', 'StrictHostKeyChecking=no',
                   '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20',
                   '-p', '22', f'root@{host}')
    # An interactive shell on a pty: what is typed is echoed and run.
    r = subprocess.run(argv, input='echo marker-$((6*7))\nexit\n', capture_output=True, text=True,
                       env=sb.env(), timeout=60)
    return r


def curl_big(sb, ns, name='big', host='10.0.0.1'):
    """curl of http://HOST/NAME from the peer's namespace (HOST may be "[fe80::1%25ppp0]"):
    (its run, seconds)."""
    t0 = time.monotonic()
    r = subprocess.run(ns.argv('curl', '-gsS', '--max-time', '120', f'http://{host}/{name}'), capture_output=True,
                       env=sb.env(), timeout=150)
    return r, time.monotonic() - t0


def expect_ssh(sb, ns, d, host='10.0.0.1'):
    """ssh_session() that has to work: exit 0 and the typed command's output."""
    r = ssh_session(sb, ns, d, host)
    h.check_eq(r.returncode, 0, f'{r.stdout[-500:]} {r.stderr[-500:]}')
    h.check('marker-42' in r.stdout, r.stdout[-500:])


def expect_download(sb, ns, name, sha, host='10.0.0.1'):
    """curl_big() of NAME that has to arrive whole, its SHA-256 `sha`; the seconds it took."""
    r, took = curl_big(sb, ns, name, host)
    h.check_eq(r.returncode, 0, r.stderr[-300:])
    h.check_eq(hashlib.sha256(r.stdout).hexdigest(), sha)
    return took


def start_link(sb, name, config, *peer_args):
    """slirpd --pty with `config`, and alopex-test-ppp-peer (PEER_ARGS) on its pty in a
    peer namespace of its own carrying the link to ppp0; once IPCP is up: (slirpd, the
    namespace, the peer)."""
    slirpd, pty = start_slirpd(sb, '--config', config, name=f'slirpd-{name}')
    ns = PeerNamespace(sb, name)
    peer = ns.spawn(name, sb.build_path('tests/harness/alopex-test-ppp-peer'), pty, 'ppp0', *peer_args)
    h.wait_until(lambda: 'up ' in log_of(peer), 30, 0.02, f'the peer of {name} reports IPCP up')
    return slirpd, ns, peer


def start_dnsmasq(sb):
    """The host's resolver, as slirpd's upstream: dnsmasq on 127.0.0.1:53 of the test's
    own namespace, knowing alopex.test and nothing else (no upstream of its own)."""
    exe = shutil.which('dnsmasq') or '/usr/sbin/dnsmasq'
    if not os.path.exists(exe):
        raise h.Skip('dnsmasq not installed (Debian package dnsmasq-base)')
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    p = sb.spawn('dnsmasq', [exe, '--no-daemon', '--conf-file=/dev/null', '--user=root', '--group=root',
                             '--pid-file=', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1',
                             '--bind-interfaces', '--port=53', '--log-facility=-', '--log-queries',
                             '--address=/alopex.test/192.0.2.7'])
    h.wait_until(lambda: 'started' in log_of(p), 10, 0.02, 'dnsmasq start')
    return p


def getent_hosts(sb, ns, name):
    """getent hosts NAME in the peer's namespace, its resolv.conf naming 10.0.0.1 (the DNS
    server IPCP gave it), in a mount namespace of its own: the host's is not touched."""
    conf = sb.path(f'resolv-{ns.holder.pid}.conf')
    with open(conf, 'w') as f:
        f.write('nameserver 10.0.0.1\n')
    return ns.run('unshare', '-m', 'sh', '-c', f'mount --bind {conf} /etc/resolv.conf && getent hosts {name}')
