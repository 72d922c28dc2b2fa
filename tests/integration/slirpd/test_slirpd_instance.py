#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""alopex-slirpd as a service instance (--instance NAME, as alopex-slirpd@NAME.service
runs it): its settings from $CONFIGURATION_DIRECTORY/slirp/NAME.toml, the serial line of
[line] opened by alopex-brokerd (OpenDevice: slirpd runs as alopex-slirp, which cannot
open the device itself) and set up raw; the peer (alopex-test-ppp-peer on the pty's
master) negotiates and reaches a mapped port. When the line hangs up, slirpd opens it
again through the broker with backoff, and a new peer on the same device gets the link
back. A bad instance name or a file without [line] device stops the start."""
import fcntl
import os
import socket

import alopex_harness as h
from slirpd_env import PeerNamespace, log_of, serve

tap = h.Tap()
CTX = {}
TIOCVHANGUP = 0x5437

BROKER = """
[[device]]
glob = "/dev/pts/*"
callers = ["alopex-slirp"]
"""


def new_pty():
    master, slave = os.openpty()
    return master, slave, os.ttyname(slave)


def start_peer(sb, master, name):
    return CTX['ns'].sb.spawn(name, CTX['ns'].argv(sb.build_path('tests/harness/alopex-test-ppp-peer'),
                                                   f'fd:{master}', 'ppp0'), pass_fds=(master,))


def echo_service(sb):
    def hello(c):
        c.sendall(b'hello from the host\n')
        c.close()
    serve(sb, socket.create_server(('127.0.0.1', 7000)), hello)


def setup(sb):
    sb.start_bus()
    if not os.path.exists(sb.build_path('daemons/slirpd/alopex-slirpd')):
        raise h.Skip('alopex-slirpd is not built')
    sb.start_broker(BROKER)
    echo_service(sb)
    master, slave, path = new_pty()
    os.chmod(path, 0o600)   # root's alone: slirpd cannot open it without the broker
    CTX.update(master=master, slave=slave, path=path)
    os.makedirs(os.path.join(sb.config_dir, 'slirp'), exist_ok=True)
    with open(os.path.join(sb.config_dir, 'slirp', 'gadget.toml'), 'w') as f:
        f.write(f'[line]\ndevice = "{path}"\nbaud = 115200\n[ports]\n"10.0.0.1:7" = "127.0.0.1:7000"\n')
    ns = sb.notify_socket('slirpd-instance')
    exe = sb.build_path('daemons/slirpd/alopex-slirpd')
    CTX['slirpd'] = sb.spawn('alopex-slirpd', [exe, '--instance', 'gadget'], as_user='alopex-slirp',
                             env=sb.env({'NOTIFY_SOCKET': ns.path}))
    ns.start_draining()
    ns.wait_for('READY', '1', timeout=20, proc=CTX['slirpd'])
    CTX['ns'] = PeerNamespace(sb, 'ppp-instance')


HELLO = """
import socket
s = socket.create_connection(('10.0.0.1', 7), timeout=10)
print(s.recv(100).decode().strip())
"""


def link_works(sb, peer):
    h.wait_until(lambda: 'up ' in log_of(peer), 20, 0.05, 'the peer reports IPCP up')
    r = CTX['ns'].run('/usr/bin/python3', '-c', HELLO)
    h.check_eq(r.stdout.strip(), 'hello from the host', r.stderr[-300:])


@tap.test('the line comes from the broker: PPP up, a mapped port reached')
def _(sb):
    CTX['peer'] = start_peer(sb, CTX['master'], 'ppp-peer-1')
    link_works(sb, CTX['peer'])
    log = log_of(CTX['slirpd'])
    h.check(f"line {CTX['path']} open at 115200 baud" in log, log[-500:])
    rc, out, err = sb.run(['id', '-un'], as_user='alopex-slirp')
    h.check_eq(out.strip(), 'alopex-slirp', err)
    # The user slirpd runs as cannot open the device itself.
    rc, _, err = sb.run(['sh', '-c', f"exec 3<>{CTX['path']}"], as_user='alopex-slirp')
    h.check(rc != 0, 'alopex-slirp has no access to the device')


@tap.test('a hangup: slirpd opens the line again through the broker, the link comes back')
def _(sb):
    # The kernel hangs up every open file of the line (TIOCVHANGUP, as when a modem or a
    # USB gadget goes away); the device node stays, as a replugged one comes back.
    CTX['peer'].stop()
    fcntl.ioctl(CTX['slave'], TIOCVHANGUP)
    h.wait_until(lambda: 'hung up' in log_of(CTX['slirpd']), 10, 0.05, 'slirpd notices the hangup')
    opened = f"line {CTX['path']} open"
    h.wait_until(lambda: log_of(CTX['slirpd']).count(opened) == 2, 15, 0.05, 'slirpd opens the line again')
    CTX['peer'] = start_peer(sb, CTX['master'], 'ppp-peer-2')
    link_works(sb, CTX['peer'])


@tap.test('a bad instance name, or an instance file without [line] device, stops the start')
def _(sb):
    exe = sb.build_path('daemons/slirpd/alopex-slirpd')
    rc, _, err = sb.run([exe, '--instance', '../etc'])
    h.check_eq(rc, 2, err)
    h.check("'../etc' is not an instance name" in err, err)
    with open(os.path.join(sb.config_dir, 'slirp', 'bare.toml'), 'w') as f:
        f.write('[addresses]\nlocal = "10.9.0.1"\npeer = "10.9.0.2"\n')
    rc, _, err = sb.run([exe, '--instance', 'bare'])
    h.check_eq(rc, 1, err)
    h.check('bare.toml: [line] device is needed for an instance' in err, err)
    rc, _, err = sb.run([exe, '--instance', 'missing'])
    h.check_eq(rc, 1, err)
    h.check('missing.toml: cannot open' in err, err)


h.main(tap, setup)
