#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The polkit client (libcommon/polkit) against a real polkitd on the private bus, through
alopex-test-polkit-probe (org.alopex.Test1), with our actions and rules bind-mounted."""
import concurrent.futures
import os
import sys

import alopex_harness as h

ACTION = 'org.alopex.link.configure'
TEST_RULES = [('10-alopex-test.rules', """// SPDX-License-Identifier: GPL-2.0-or-later
polkit.addRule(function(action, subject) {
    if (action.id == "org.alopex.checkpoint" && subject.user == "alopex-slirp")
        return polkit.Result.YES;
});
""")]
DEST = ['org.alopex.Test1', '/org/alopex/Test1', 'org.alopex.Test1']

tap = h.Tap()


def client(sb, method, *args, user=None, interactive=True):
    argv = [sb.build_path('tests/harness/alopex-test-client')]
    if not interactive:
        argv.append('--no-interactive')
    rc, out, err = sb.run(argv + DEST + [method, *args], as_user=user)
    h.check(rc in (0, 1), f'client failed: rc={rc} {out} {err}')
    return out.strip()


def need_actions(sb):
    if not os.path.exists(sb.source_path('policy/polkit/org.alopex.policy')):
        raise h.Skip('policy/polkit/org.alopex.policy not written yet')


def need_netdev_rules(sb):
    if not os.path.exists(sb.source_path('policy/polkit/50-alopex-netdev.rules')):
        raise h.Skip('policy/polkit/50-alopex-netdev.rules not written yet')


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
    out = client(sb, 'Guarded')
    h.check(out.startswith('ERROR org.alopex.Error.NotAuthorized:'), out)
    h.check(ACTION in out, out)
    rc, data, err = sb.call(*DEST, 'Pending')
    h.check_eq((rc, data), (0, [0]), f'pending queries ({err})')


def setup(sb):
    sb.start_bus()
    sb.start_polkit(rules=TEST_RULES)
    sb.start_daemon('tests/harness/alopex-test-polkit-probe', wait_name='org.alopex.Test1')


if __name__ == '__main__':
    sys.exit(h.main(tap, setup))
