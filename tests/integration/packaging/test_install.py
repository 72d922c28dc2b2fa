#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`meson install --destdir` puts every piece of the suite in the usual place, and each
installed piece is usable: the unit and the bus activation file point at the installed
broker, the polkit actions parse and name every action of DESIGN.md §2, the rules file
grants netdev the link action (evaluated with node when it is installed), the man pages
are roff, and systemd-sysusers / systemd-tmpfiles accept our entries (run with --root on
the DESTDIR tree only: the host's /etc is never touched).
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.environ.get('ALOPEX_SOURCE_DIR', '.'), 'tests', 'harness'))
from alopex_tap import Skip, Tap, check, check_eq, diag  # noqa: E402

SOURCE = os.environ.get('ALOPEX_SOURCE_DIR', '.')
BUILD = os.environ.get('ALOPEX_BUILD_DIR', '.')

POLKIT_ACTIONS = ['org.alopex.link.configure', 'org.alopex.firewall.configure',
                  'org.alopex.dns.configure', 'org.alopex.ovs.configure',
                  'org.alopex.slirp.configure', 'org.alopex.checkpoint']
SUITE_USERS = ['alopex-link', 'alopex-fw', 'alopex-slirp', 'alopex-ovs', 'alopex-dns']
MAN_PAGES = ['man7/alopex.7', 'man1/alopexctl.1', 'man8/alopex-brokerd.8',
             'man5/alopex-broker.toml.5', 'man8/alopex-slirpd.8', 'man5/alopex-slirp.toml.5',
             'man8/alopex-ovs-agentd.8', 'man5/alopex-ovs-agent.toml.5', 'man8/alopex-ovs-hook.8']


class Install:
    """One DESTDIR install shared by every test of this script."""

    def __init__(self):
        opts = {o['name']: o['value'] for o in self.introspect('--buildoptions')}
        self.prefix = opts['prefix']
        self.opts = opts
        self.tmp = tempfile.mkdtemp(prefix='alopex-destdir-')
        self.root = os.path.join(self.tmp, 'root')
        r = subprocess.run(['meson', 'install', '-C', BUILD, '--destdir', self.root,
                            '--no-rebuild', '--quiet'], capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            self.cleanup()
            raise RuntimeError(f'meson install failed ({r.returncode}):\n{r.stdout}\n{r.stderr}')

    def introspect(self, what):
        r = subprocess.run(['meson', 'introspect', BUILD, what], capture_output=True,
                           text=True, timeout=60, check=True)
        return json.loads(r.stdout)

    def dir(self, option):
        """An install directory option (bindir, mandir, ...) as an absolute path."""
        return os.path.join(self.prefix, self.opts[option])

    def host_path(self, installed):
        """Where an absolute installed path lives under DESTDIR."""
        return os.path.join(self.root, installed.lstrip('/'))

    def p(self, *parts):
        """A path under DESTDIR + prefix."""
        return os.path.join(self.root, self.prefix.lstrip('/'), *parts)

    def read(self, *parts):
        with open(self.p(*parts), encoding='utf-8') as f:
            return f.read()

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def ini_values(text, key):
    return [m.group(1).strip() for m in re.finditer(rf'^{re.escape(key)}=(.*)$', text, re.M)]


def main():
    tap = Tap()

    @tap.test('binaries are installed and executable')
    def _(inst):
        for rel, opt in [('alopex-brokerd', 'sbindir'), ('alopex-slirpd', 'sbindir'), ('alopexctl', 'bindir')]:
            path = inst.host_path(os.path.join(inst.dir(opt), rel))
            check(os.path.isfile(path), f'missing {path}')
            check(os.stat(path).st_mode & stat.S_IXUSR, f'{path} is not executable')
        r = subprocess.run([inst.host_path(os.path.join(inst.dir('bindir'), 'alopexctl')),
                            '--version'], capture_output=True, text=True, timeout=30)
        check_eq(r.returncode, 0, 'alopexctl --version exit status')
        check(r.stdout.startswith('alopexctl '), f'alopexctl --version printed {r.stdout!r}')

    @tap.test('the broker unit is installed and starts the installed broker')
    def _(inst):
        text = inst.read('lib', 'systemd', 'system', 'alopex-brokerd.service')
        check_eq(ini_values(text, 'ExecStart'),
                 [os.path.join(inst.dir('sbindir'), 'alopex-brokerd')], 'ExecStart')
        check_eq(ini_values(text, 'Type'), ['notify'], 'Type')
        check_eq(ini_values(text, 'BusName'), ['org.alopex.Broker1'], 'BusName')
        check(ini_values(text, 'WatchdogSec'), 'no WatchdogSec=')
        check_eq(ini_values(text, 'ProtectSystem'), ['strict'], 'ProtectSystem')
        check_eq(ini_values(text, 'RestrictAddressFamilies'), ['AF_UNIX'],
                 'RestrictAddressFamilies')
        check(ini_values(text, 'SystemCallFilter'), 'no SystemCallFilter=')
        left = re.findall(r'@[a-z_]+@', text)
        check(not left, f'unsubstituted variables left in the unit: {left}')

    @tap.test('D-Bus policy and bus activation file are installed and consistent')
    def _(inst):
        conf = inst.p('share', 'dbus-1', 'system.d', 'org.alopex.Broker1.conf')
        root = ET.parse(conf).getroot()
        check_eq(root.tag, 'busconfig', 'root element')
        owners = [p.get('user') for p in root.iter('policy')
                  for a in p.iter('allow') if a.get('own') == 'org.alopex.Broker1']
        check_eq(owners, ['root'], 'users allowed to own org.alopex.Broker1')
        callers = {p.get('user') for p in root.iter('policy')
                   for a in p.iter('allow') if a.get('send_destination') == 'org.alopex.Broker1'}
        check_eq(callers, {'root', *SUITE_USERS}, 'users allowed to call the broker')

        svc = inst.read('share', 'dbus-1', 'system-services', 'org.alopex.Broker1.service')
        check_eq(ini_values(svc, 'Name'), ['org.alopex.Broker1'], 'Name')
        check_eq(ini_values(svc, 'User'), ['root'], 'User')
        check_eq(ini_values(svc, 'SystemdService'), ['alopex-brokerd.service'], 'SystemdService')
        exe = ini_values(svc, 'Exec')
        check_eq(exe, [os.path.join(inst.dir('sbindir'), 'alopex-brokerd')], 'Exec')
        check(os.path.isfile(inst.host_path(exe[0])), f'{exe[0]} is not installed')

    @tap.test('polkit actions parse and define every action with defaults')
    def _(inst):
        root = ET.parse(inst.p('share', 'polkit-1', 'actions', 'org.alopex.policy')).getroot()
        check_eq(root.tag, 'policyconfig', 'root element')
        actions = {a.get('id'): a for a in root.iter('action')}
        check_eq(sorted(actions), sorted(POLKIT_ACTIONS), 'actions')
        for aid, a in actions.items():
            check(a.findtext('description'), f'{aid}: no description')
            check(a.findtext('message'), f'{aid}: no message')
            d = a.find('defaults')
            check(d is not None, f'{aid}: no defaults')
            check_eq((d.findtext('allow_any'), d.findtext('allow_inactive'),
                      d.findtext('allow_active')), ('no', 'no', 'auth_admin_keep'),
                     f'{aid} defaults')

    @tap.test('polkit rules: netdev gets the link action, alopex-ovs what it asks of linkd, nothing else')
    def _(inst):
        rules = [inst.p('share', 'polkit-1', 'rules.d', f) for f in
                 ('50-alopex-netdev.rules', '50-alopex-ovs-agent.rules')]
        text = ''.join(open(p, encoding='utf-8').read() for p in rules)
        check('org.alopex.link.configure' in text and 'netdev' in text and 'alopex-ovs' in text, 'rule content')
        node = shutil.which('node') or shutil.which('nodejs')
        if not node:
            raise Skip('node is not installed; content checked only')
        # Evaluate the rules with a stand-in for polkit's JS API.
        script = """
const fs = require('fs');
const rules = [];
const polkit = {Result: {YES: 'yes', NO: 'no', AUTH_ADMIN: 'auth_admin'},
                addRule: (f) => rules.push(f), log: () => {}};
for (const file of JSON.parse(process.argv[1]))
  new Function('polkit', fs.readFileSync(file, 'utf8'))(polkit);
const ask = (id, user, groups) => {
  for (const r of rules) {
    const v = r({id: id}, {isInGroup: (g) => groups.includes(g), user: user});
    if (v !== undefined && v !== null) return v;
  }
  return 'default';
};
const out = {};
for (const id of JSON.parse(process.argv[2]))
  out[id] = [ask(id, 'u', ['netdev']), ask(id, 'u', ['users']), ask(id, 'alopex-ovs', ['alopex'])];
console.log(JSON.stringify(out));
"""
        r = subprocess.run([node, '-e', script, json.dumps(rules), json.dumps(POLKIT_ACTIONS)],
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 0, f'node exit status ({r.stderr.strip()})')
        got = json.loads(r.stdout)
        for aid in POLKIT_ACTIONS:
            want = {'org.alopex.link.configure': ['yes', 'default', 'yes'],
                    'org.alopex.firewall.configure': ['default', 'default', 'yes'],
                    'org.alopex.checkpoint': ['default', 'default', 'yes']}.get(
                        aid, ['default', 'default', 'default'])
            check_eq(got[aid], want, f'{aid} for (netdev member, other user, alopex-ovs)')

    @tap.test('sysusers.d creates one user per daemon in group alopex')
    def _(inst):
        check(os.path.isfile(inst.p('lib', 'sysusers.d', 'alopex.conf')), 'sysusers file')
        if os.geteuid() != 0:
            raise Skip('systemd-sysusers --root needs root')
        etc = inst.host_path('/etc/sysusers.d')
        os.makedirs(etc, exist_ok=True)
        shutil.copy(inst.p('lib', 'sysusers.d', 'alopex.conf'), etc)
        r = subprocess.run(['systemd-sysusers', f'--root={inst.root}'],
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 0, f'systemd-sysusers exit status ({r.stderr.strip()})')
        passwd = open(inst.host_path('/etc/passwd')).read()
        group = open(inst.host_path('/etc/group')).read()
        users = {l.split(':')[0]: l.split(':') for l in passwd.splitlines()}
        for u in SUITE_USERS:
            check(u in users, f'{u} not created')
            check_eq(users[u][6], '/usr/sbin/nologin', f'{u} shell')
            check(int(users[u][2]) < 1000, f'{u} is not a system user')
        members = [l.split(':')[3] for l in group.splitlines() if l.startswith('alopex:')]
        check_eq(sorted(members[0].split(',')) if members else [], sorted(SUITE_USERS),
                 'members of group alopex')

    @tap.test('tmpfiles.d creates the directories, the default broker.toml and firewall.toml')
    def _(inst):
        example = inst.p('share', 'alopex', 'broker.toml')
        check(os.path.isfile(example), 'share/alopex/broker.toml')
        policy = inst.p('share', 'alopex', 'firewall.toml')
        check(os.path.isfile(policy), 'share/alopex/firewall.toml')
        if os.geteuid() != 0:
            raise Skip('systemd-tmpfiles --root needs root')
        etc = inst.host_path('/etc/tmpfiles.d')
        os.makedirs(etc, exist_ok=True)
        shutil.copy(inst.p('lib', 'tmpfiles.d', 'alopex.conf'), etc)
        r = subprocess.run(['systemd-tmpfiles', f'--root={inst.root}', '--create'],
                           capture_output=True, text=True, timeout=60)
        check_eq(r.returncode, 0, f'systemd-tmpfiles exit status ({r.stderr.strip()})')
        for d in ['/etc/alopex', '/var/lib/alopex', '/run/alopex']:
            st = os.stat(inst.host_path(d))
            check(stat.S_ISDIR(st.st_mode), f'{d} is not a directory')
            check_eq(oct(st.st_mode & 0o7777), '0o755', f'{d} mode')
        for name, shipped in (('broker.toml', example), ('firewall.toml', policy)):
            with open(inst.host_path(f'/etc/alopex/{name}')) as a, open(shipped) as b:
                check_eq(a.read(), b.read(), f'/etc/alopex/{name} contents')
            # An existing file is never replaced.
            with open(inst.host_path(f'/etc/alopex/{name}'), 'w') as f:
                f.write('# admin\n')
        subprocess.run(['systemd-tmpfiles', f'--root={inst.root}', '--create'],
                       capture_output=True, timeout=60)
        for name in ('broker.toml', 'firewall.toml'):
            check_eq(open(inst.host_path(f'/etc/alopex/{name}')).read(), '# admin\n',
                     f'{name} after a second tmpfiles run')

    @tap.test('the shipped broker.toml is valid TOML with every table commented out')
    def _(inst):
        import tomllib
        with open(inst.p('share', 'alopex', 'broker.toml'), 'rb') as f:
            check_eq(tomllib.load(f), {}, 'parsed default broker.toml')

    @tap.test('man pages are built and installed')
    def _(inst):
        if inst.opts.get('man') == 'disabled':
            raise Skip('man pages disabled (-Dman=disabled)', optional=True)
        if not shutil.which('scdoc'):
            raise Skip('scdoc is not installed')   # a failure under CI=true
        for page in MAN_PAGES:
            path = inst.host_path(os.path.join(inst.dir('mandir'), page))
            check(os.path.isfile(path), f'missing {path}')
            text = open(path, encoding='utf-8').read()
            name, section = os.path.basename(page).rsplit('.', 1)
            check(f'.TH "{name}" "{section}"' in text, f'{page}: no .TH header')

    @tap.test('D-Bus interface XML is installed')
    def _(inst):
        for xml in ('org.alopex.Broker1.xml', 'org.alopex.Link1.xml', 'org.alopex.Firewall1.xml',
                    'org.alopex.Slirp1.xml', 'org.alopex.PortAgent1.xml', 'dev.ovs.PortAgent1.xml'):
            check(os.path.isfile(inst.p('share', 'dbus-1', 'interfaces', xml)), xml)

    @tap.test('every installed file is under the prefix or a known system path')
    def _(inst):
        files = []
        for d, _, fs in os.walk(inst.root):
            files += [os.path.join(d, f) for f in fs]
        outside = [f for f in files
                   if not f.startswith(inst.p('')) and
                   not f.startswith(inst.host_path('/etc/')) and
                   not f.startswith(inst.host_path('/var/')) and
                   not f.startswith(inst.host_path('/run/'))]
        check(not outside, f'installed outside the prefix: {outside}')
        diag(f'{len(files)} files installed under {inst.prefix}')

    try:
        inst = Install()
    except Exception as e:  # noqa: BLE001
        from alopex_tap import bail_out
        bail_out(f'install failed: {e}')
        return 1
    try:
        return 1 if tap.run(inst) else 0
    finally:
        inst.cleanup()


if __name__ == '__main__':
    sys.exit(main())
