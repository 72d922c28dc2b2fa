#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The suite on its embedded default (README command 1): a throwaway network namespace
with a private D-Bus daemon, polkitd, alopex-brokerd (demo broker.toml) and alopex-linkd
(a demo profile on a veth pair), alopex-fwd (the shipped policy plus a demo zone),
alopex-slirpd (instance "demo" on a pty the broker opens, a PPP peer on its other end in a
namespace of its own, and a real HTTP request through it to a service on this side's
127.0.0.1), `alopexctl status`, `alopexctl link list`, `alopexctl fw zones`,
`alopexctl slirp status` and `alopexctl ledger show`, then wait until SIGINT/SIGTERM and
clean up.

    tools/dev/sandbox.py [--build-dir DIR] [--no-wait]

The sandbox lives in its own network/mount/PID namespaces (tests/harness); this outer
process stays outside, in a session of its own for the namespaced child, so Ctrl-C
reaches only us and we stop the sandbox gracefully (its cleanup runs)."""
import argparse
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.join(SOURCE_DIR, 'tests', 'harness'))
import alopex_harness as h  # noqa: E402
from alopex_peer import netns_holder  # noqa: E402

READY = '@@alopex-sandbox-ready@@'


def demo_toml(sb):
    demo = sb.path('demo')
    return f"""# SPDX-License-Identifier: GPL-2.0-or-later
# Demo table of the sandbox: managed files live in {demo}, not in /etc.
[[device]]
glob = "/dev/pts/*"
callers = ["alopex-slirp"]

[[file]]
id = "resolv.conf"
path = "{demo}/resolv.conf"
callers = ["alopex-dns"]
mode = "0644"

[[block]]
id = "interfaces"
path = "{demo}/interfaces"
tag = "ovs"
validator = "interfaces"
callers = ["alopex-ovs"]

# The sandbox runs its daemons as root: root may record too, so that the demo's actions
# (linkd's profile applied at start, methods called in the sandbox) are in the ledger.
[record]
callers = ["alopex-link", "alopex-fw", "alopex-slirp", "alopex-ovs", "alopex-dns", "root"]
"""


def start_slirp_demo(sb, ctl):
    """slirpd instance "demo" as alopex-slirp on a pty the broker opens for it; the peer
    (tests/harness' PPP peer, as pppd would be) on the pty's master in a network namespace
    of its own; port 80 of slirpd's 10.0.0.1 mapped to a web page on 127.0.0.1:8080 here;
    and curl from the peer's side, the request crossing PPP and slirpd's own TCP."""
    exe = sb.build_path('daemons/slirpd/alopex-slirpd')
    peer_exe = sb.build_path('tests/harness/alopex-test-ppp-peer')
    if not os.path.exists(exe) or not os.path.exists(peer_exe):
        print('(alopex-slirpd or tests/harness/alopex-test-ppp-peer is not built)')
        return
    www = sb.path('demo', 'www')
    os.makedirs(www)
    with open(os.path.join(www, 'index.html'), 'w') as f:
        f.write('hello from the host, through PPP and alopex-slirpd\n')
    sb.spawn('demo-http', ['/usr/bin/python3', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', www,
                           '8080'])
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.chmod(path, 0o600)   # only through the broker
    os.makedirs(os.path.join(sb.config_dir, 'slirp'), exist_ok=True)
    with open(os.path.join(sb.config_dir, 'slirp', 'demo.toml'), 'w') as f:
        f.write(f'[line]\ndevice = "{path}"\n[ports]\n"10.0.0.1:80" = "127.0.0.1:8080"\n')
    sb.spawn('alopex-slirpd', [exe, '--instance', 'demo'], as_user='alopex-slirp')
    holder = netns_holder(sb, 'ppp-peer-ns')
    peer = sb.spawn('ppp-peer', ['nsenter', '-t', str(holder.pid), '-n', peer_exe, f'fd:{master}', 'ppp0'],
                    pass_fds=(master,))
    h.wait_until(lambda: 'up ' in peer.log(), 20, 0.05, 'the PPP peer up')
    print(f'\n$ alopexctl slirp status        # {path} opened by the broker for alopex-slirp')
    _, out, err = sb.run([ctl, 'slirp', 'status'])
    sys.stdout.write(out + err)
    print('\n$ curl http://10.0.0.1/          # in the peer\'s namespace, over PPP')
    r = subprocess.run(['nsenter', '-t', str(holder.pid), '-n', 'curl', '-sS', '--max-time', '10',
                        'http://10.0.0.1/'], capture_output=True, text=True)
    sys.stdout.write(r.stdout + r.stderr)


def alopexctl(build_dir):
    for rel in ('tools/alopexctl/alopexctl', 'tools/alopexctl'):
        p = os.path.join(build_dir, rel)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def inner(args):
    """Runs inside the namespaces: builds the sandbox, prints status, waits."""
    with h.Sandbox(name='alopex-sandbox', tmpfs=False, build_dir=args.build_dir,
                   source_dir=SOURCE_DIR) as sb:
        os.makedirs(sb.path('demo'), mode=0o755)
        with open(sb.path('demo', 'interfaces'), 'w') as f:
            f.write('auto lo\niface lo inet loopback\n\n# BEGIN ovs\n# END ovs\n')
        sb.start_bus()
        try:
            sb.start_broker(demo_toml(sb))
        except h.Skip as e:
            print(f'alopex sandbox: {e}; build first (meson setup/ninja)', file=sys.stderr)
            return 1
        try:
            sb.start_polkit()   # mutating calls ask it; without it they are refused
        except Exception as e:  # noqa: BLE001 - the demo runs without polkit too
            print(f'alopex sandbox: no polkitd ({e}); changes will be refused', file=sys.stderr)
        # linkd with a demo profile on a veth pair of the sandbox's own namespace.
        os.makedirs(os.path.join(sb.config_dir, 'links'), exist_ok=True)
        with open(os.path.join(sb.config_dir, 'links', '50-demo.toml'), 'w') as f:
            f.write('[match]\nname = "demo0"\n[link]\nzone = "lan"\n'
                    '[ipv4]\naddresses = ["192.0.2.1/24"]\n')
        sb.run(['ip', 'link', 'add', 'demo0', 'type', 'veth', 'peer', 'name', 'demo0p'])
        sb.run(['ip', 'link', 'set', 'demo0p', 'up'])
        try:
            sb.start_daemon('daemons/linkd/alopex-linkd', wait_name='org.alopex.Link1')
        except h.Skip as e:
            print(f'alopex sandbox: {e}', file=sys.stderr)
        # fwd with the shipped policy plus a "lan" zone: linkd's demo profile puts demo0
        # in it (fwd follows linkd's zones), every other interface is "public".
        with open(os.path.join(SOURCE_DIR, 'units', 'examples', 'firewall.toml')) as f:
            policy = f.read()
        with open(os.path.join(sb.config_dir, 'firewall.toml'), 'w') as f:
            f.write(policy + '\n# The demo zone of the sandbox (linkd assigns demo0 to it).\n'
                    '[zones.lan]\ninput = "accept"\nforward = "drop"\n')
        try:
            sb.start_daemon('daemons/fwd/alopex-fwd', wait_name='org.alopex.Firewall1')
        except h.Skip as e:
            print(f'alopex sandbox: {e}', file=sys.stderr)
        rc = 0
        ctl = alopexctl(sb.build_dir)
        print('$ alopexctl status')
        if ctl:
            rc, out, err = sb.run([ctl, 'status'])
            sys.stdout.write(out + err)
            # The demo profile is applied right after linkd's first dump.
            h.wait_until(lambda: '192.0.2.1/24' in sb.run([ctl, 'link', 'list'])[1], 10, 0.05,
                         'the demo profile applied')
            print('\n$ alopexctl link list')
            _, out, err = sb.run([ctl, 'link', 'list'])
            sys.stdout.write(out + err)
            h.wait_until(lambda: 'demo0' in sb.run([ctl, 'fw', 'zones'])[1], 10, 0.05,
                         'fwd following the demo zone')
            print('\n$ alopexctl fw zones')
            _, out, err = sb.run([ctl, 'fw', 'zones'])
            sys.stdout.write(out + err)
            try:
                start_slirp_demo(sb, ctl)
            except Exception as e:  # noqa: BLE001 - the rest of the demo stands without it
                print(f'alopex sandbox: slirpd demo: {e}', file=sys.stderr)
            # linkd's profile apply and fwd's start are in the broker's audit ledger.
            ledger = os.path.join(sb.state_dir, 'ledger.jsonl')
            show = [ctl, 'ledger', 'show', '--file', ledger]
            h.wait_until(lambda: 'link.profile.apply' in sb.run(show)[1], 10, 0.05,
                         "linkd's demo actions in the ledger")
            print(f'\n$ alopexctl ledger show --file {ledger}')
            _, out, err = sb.run(show)
            sys.stdout.write(out + err)
        else:
            rc = 1
            print('(alopexctl is not built)')
        print()
        addr = sb.bus_address.split(',')[0]
        print('The sandbox has its own network namespace and a private system bus:')
        print(f'  export DBUS_SYSTEM_BUS_ADDRESS={addr}')
        print(f'  busctl --address={addr} tree org.alopex.Broker1')
        print(f'  busctl --address={addr} tree org.alopex.Link1')
        print(f'  alopexctl slirp status; alopexctl slirp connections')
        print(f'  alopexctl fw status; nft list table inet alopex   (inside the namespace)')
        print(f'  config {sb.config_dir}, state {sb.state_dir}, logs {sb.log_dir}')
        print(READY, flush=True)
        if args.no_wait:
            return rc
        while True:
            signal.pause()


def outer(args):
    env = dict(os.environ, **{h.INSIDE_MARKER: '1'})
    argv = ['unshare', '--net', '--mount', '--propagation', 'private', '--pid', '--mount-proc',
            '--fork', '--kill-child', '--', sys.executable, os.path.abspath(__file__), '--inner',
            '--build-dir', args.build_dir] + (['--no-wait'] if args.no_wait else [])
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)

    def stop(signum=signal.SIGTERM, frame=None):
        # Signal the namespaced python (unshare's child) so its cleanup runs.
        try:
            with open(f'/proc/{child.pid}/task/{child.pid}/children') as f:
                for pid in f.read().split():
                    os.kill(int(pid), signal.SIGTERM)
        except OSError:
            child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for line in child.stdout:
        if line.strip() == READY:
            print(f'  nsenter --target {child.pid} --net --mount   # a shell inside')
            if not args.no_wait:
                print('Ctrl-C stops the sandbox and removes it.')
            sys.stdout.flush()
            continue
        sys.stdout.write(line)
        sys.stdout.flush()
    try:
        return child.wait(20)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build-dir', default=os.path.join(SOURCE_DIR, 'build'))
    ap.add_argument('--no-wait', action='store_true',
                    help='exit after printing the status (CI smoke test)')
    ap.add_argument('--inner', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    if os.geteuid() != 0:
        print('alopex sandbox: needs root (namespaces, bind mounts)', file=sys.stderr)
        return 1
    if args.inner:
        rc = inner(args)
        sys.stdout.flush()
        return rc
    return outer(args)


if __name__ == '__main__':
    sys.exit(main())
