#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The polkit client (libcommon/polkit) against a real polkitd on the private bus, through
alopex-test-polkit-probe (org.alopex.Test1), with our actions and rules bind-mounted.

The interactive flag, as polkitd 122 (Debian 12) really behaves, checked here: for an
action whose rule says AUTH_ADMIN, polkitd answers is_challenge=true when the flag is
clear, *and also when it is set but no authentication agent serves the caller* (it does
not turn "no agent" into a refusal). Only with an agent registered for the caller
(pkttyagent --process PID) does the flag change the outcome: polkitd asks the agent, and
an agent that goes away (the user dismissed it) yields not-authorized, no challenge."""
import concurrent.futures
import os
import pty
import select
import shutil
import subprocess
import sys
import time

import alopex_harness as h

ACTION = 'org.alopex.link.configure'
TEST_RULES = [('10-alopex-test.rules', """// SPDX-License-Identifier: GPL-2.0-or-later
polkit.addRule(function(action, subject) {
    if (action.id == "org.alopex.checkpoint" && subject.user == "alopex-slirp")
        return polkit.Result.YES;
    if (action.id == "org.alopex.dns.configure" && subject.user == "alopex-test")
        return polkit.Result.AUTH_ADMIN;
});
""")]
ADMIN_ACTION = 'org.alopex.dns.configure'   # AUTH_ADMIN for alopex-test (rule above)
NA = 'ERROR org.alopex.Error.NotAuthorized'
# libcommon/polkit/polkit.cpp's messages for Verdict::Challenge and Verdict::Denied.
CHALLENGE = f'{NA}: interactive authentication required for {ADMIN_ACTION}'
DENIED = f'{NA}: not authorized for {ADMIN_ACTION}'
DEST = ['org.alopex.Test1', '/org/alopex/Test1', 'org.alopex.Test1']

tap = h.Tap()


def client(sb, method, *args, user=None, interactive=True):
    argv = [sb.build_path('tests/harness/alopex-test-client')]
    if not interactive:
        argv.append('--no-interactive')
    rc, out, err = sb.run(argv + DEST + [method, *args], as_user=user)
    h.check(rc in (0, 1), f'client failed: rc={rc} {out} {err}')
    return out.strip()


# Missing policy files skip outside CI; under CI=true a Skip is a failure (alopex_tap).
def need_actions(sb):
    if not os.path.exists(sb.source_path('policy/polkit/org.alopex.policy')):
        raise h.Skip('policy/polkit/org.alopex.policy not written yet')


def need_netdev_rules(sb):
    if not os.path.exists(sb.source_path('policy/polkit/50-alopex-netdev.rules')):
        raise h.Skip('policy/polkit/50-alopex-netdev.rules not written yet')


def with_agent(sb, interactive, timeout=30):
    """Check(ADMIN_ACTION) as alopex-test while pkttyagent (on a pty of ours) is the
    authentication agent registered for exactly that client process. The client waits
    until the agent is registered (--notify-fd closes); the agent is killed as soon as it
    prompts for a password, as a user dismissing the dialog would. Returns (client
    output, what the agent wrote on its tty)."""
    agent_exe = shutil.which('pkttyagent')
    if not agent_exe:
        raise h.Skip('pkttyagent is not installed')
    argv = [sb.build_path('tests/harness/alopex-test-client'), '--wait-stdin']
    if not interactive:
        argv.append('--no-interactive')
    cl = subprocess.Popen(sb.as_user_argv('alopex-test', argv + DEST +
                                          ['Check', f's:{ADMIN_ACTION}']),
                          env=sb.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    agent, master, tty = None, None, b''
    try:
        line = cl.stdout.readline()
        h.check_eq(line.split()[:1], ['ready'], f'client: {line!r}')
        h.check_eq(int(line.split()[1]), cl.pid, 'client pid (setpriv execs in place)')
        rfd, wfd = os.pipe()
        agent, master = pty.fork()   # the agent needs a controlling tty (/dev/tty)
        if agent == 0:
            try:
                os.close(rfd)
                os.set_inheritable(wfd, True)
                os.execve(agent_exe, [agent_exe, '--process', str(cl.pid),
                                      f'--notify-fd={wfd}'], sb.env())
            finally:
                os._exit(127)
        os.close(wfd)
        with os.fdopen(rfd, 'rb') as r:   # EOF once pkttyagent has registered (or died)
            select.select([r], [], [], timeout)
            r.read()
        h.check(os.waitpid(agent, os.WNOHANG) == (0, 0), f'pkttyagent exited: {tty!r}')
        cl.stdin.write('\n')
        cl.stdin.flush()
        deadline = time.monotonic() + timeout
        killed = False
        while cl.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    tty += os.read(master, 4096)
                except OSError:   # EIO: the agent is gone
                    pass
            if not killed and b'Password:' in tty:
                os.kill(agent, 9)
                killed = True
        h.check(cl.poll() is not None, f'client still waiting after {timeout}s; tty: {tty!r}')
        return cl.stdout.read().strip(), tty.decode(errors='replace')
    finally:
        if cl.poll() is None:
            cl.kill()
        cl.wait()
        if agent:
            try:
                os.kill(agent, 9)
            except ProcessLookupError:
                pass
            os.waitpid(agent, 0)
        if master is not None:
            os.close(master)


@tap.test('AUTH_ADMIN without an agent: a challenge, with the interactive flag or without')
def _(sb):
    need_actions(sb)
    # Verified against polkitd 122: with no agent for the caller polkitd still answers
    # is_challenge=true when the flag is set, so the caller sees the same error.
    for interactive in (False, True):
        h.check_eq(client(sb, 'Check', f's:{ADMIN_ACTION}', user='alopex-test',
                          interactive=interactive), CHALLENGE, f'interactive={interactive}')


@tap.test('AUTH_ADMIN with an agent: the interactive flag makes polkit ask it; dismissed')
def _(sb):
    need_actions(sb)
    out, tty = with_agent(sb, interactive=True)
    h.diag(f'agent tty: {tty.strip()!r}')
    h.check(f'AUTHENTICATING FOR {ADMIN_ACTION}' in tty and 'Password:' in tty,
            f'the agent was not asked: {tty!r}')
    h.check_eq(out, DENIED, 'interactive call after the agent was dismissed')
    rc, data, err = sb.call(*DEST, 'Pending')
    h.check_eq((rc, data), (0, [0]), f'pending queries ({err})')


@tap.test('AUTH_ADMIN with an agent but no interactive flag: a challenge, agent never asked')
def _(sb):
    need_actions(sb)
    out, tty = with_agent(sb, interactive=False)
    h.check_eq(out, CHALLENGE, 'non-interactive call')
    h.check('AUTHENTICATING' not in tty, f'the agent was asked: {tty!r}')


@tap.test('root is authorized (interactive and not)')
def _(sb):
    need_actions(sb)
    h.check_eq(client(sb, 'Guarded'), 'authorized', 'Guarded as root')
    h.check_eq(client(sb, 'Guarded', interactive=False), 'authorized', 'non-interactive')
    rc, out, err = sb.busctl('call', *DEST, 'Guarded')
    h.check_eq((rc, out.strip()), (0, 's "authorized"'), f'busctl ({err})')


@tap.test('an unprivileged user is refused with NotAuthorized naming the action')
def _(sb):
    for interactive in (True, False):
        out = client(sb, 'Guarded', user='alopex-test', interactive=interactive)
        h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), out)
        h.check(ACTION in out, out)


@tap.test('group netdev is granted the link action by our rules file')
def _(sb):
    need_actions(sb)
    need_netdev_rules(sb)
    h.check_eq(client(sb, 'Guarded', user='alopex-netdev'), 'authorized', 'alopex-netdev')
    out = client(sb, 'Check', 's:org.alopex.firewall.configure', user='alopex-netdev')
    h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), f'firewall: {out}')


@tap.test('a test rules file in /etc/polkit-1/rules.d is honoured')
def _(sb):
    need_actions(sb)
    h.check_eq(client(sb, 'Check', 's:org.alopex.checkpoint', user='alopex-slirp'),
               'authorized', 'alopex-slirp checkpoint')
    out = client(sb, 'Check', 's:org.alopex.checkpoint', user='alopex-test')
    h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), out)


@tap.test('an action polkit does not know is refused')
def _(sb):
    out = client(sb, 'Check', 's:org.alopex.no.such.action')
    h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), out)


@tap.test('concurrent checks each get their own verdict; nothing stays pending')
def _(sb):
    need_actions(sb)
    users = ['root', 'alopex-test'] * 6
    with concurrent.futures.ThreadPoolExecutor(len(users)) as ex:
        outs = list(ex.map(lambda u: client(sb, 'Guarded', user=u), users))
    for u, out in zip(users, outs):
        if u == 'root':
            h.check_eq(out, 'authorized', 'root')
        else:
            h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), out)
    rc, data, err = sb.call(*DEST, 'Pending')
    h.check_eq((rc, data), (0, [0]), f'pending queries ({err})')


@tap.test('without polkitd on the bus even root is refused')
def _(sb):
    sb.stop_polkit()
    try:
        out = client(sb, 'Guarded')
        h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), out)
        h.check(ACTION in out, out)
        rc, data, err = sb.call(*DEST, 'Pending')
        h.check_eq((rc, data), (0, [0]), f'pending queries ({err})')
    finally:
        sb.restart_polkit()   # the other tests may run after this one


def setup(sb):
    sb.start_bus()
    sb.start_polkit(rules=TEST_RULES)
    sb.start_daemon('tests/harness/alopex-test-polkit-probe', wait_name='org.alopex.Test1')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
