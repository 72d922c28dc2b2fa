# SPDX-License-Identifier: GPL-2.0-or-later
"""Integration test harness: one throwaway world per test script.

    import alopex_harness as h
    h.enter_namespaces()                  # re-exec under unshare (net, mount, pid)
    with h.Sandbox() as sb:               # users, temp dirs, cleanup
        sb.start_bus()                    # private system-style dbus-daemon
        sb.start_broker(BROKER_TOML)      # or sb.start_daemon('daemons/x/y', wait_name=...)
        tap = h.Tap()
        ...
        sys.exit(1 if tap.run(sb) else 0)

or simply `h.main(tap, setup)`. Everything lives in a fresh network namespace, a
private mount namespace (bind-mounted passwd/group, tmpfs temp root, polkit dirs) and a
private PID namespace: when the script dies, however it dies, every process it started
dies with it and the mounts vanish. Python stdlib only (Debian's /usr/bin/python3).

Two clients: `sb.busctl()` / `sb.call()` use busctl, the independent reference client, and
should be preferred. busctl falls short in two ways, which is why the build tree also has
tests/harness/alopex-test-client (test_client.cpp): it cannot *use* a returned fd (it only
prints its number, and the fd dies with busctl), so OpenDevice/OpenOvsdb need a client that
writes to and reads from the fd; and on a failed call it prints only the error *message*
("Call failed: ..."), never the error *name* (org.alopex.Error.NotAuthorized, ...), which
the API contract is about. (It can also pause before calling, --wait-stdin, so a test can
register a polkit agent for its pid first.)

sd_notify: `start_daemon(..., notify=True)` hands the daemon NOTIFY_SOCKET (a datagram
socket the sandbox binds, see NotifySocket) and WATCHDOG_USEC (no WATCHDOG_PID: the
daemon's pid is not known before exec, and sd_watchdog_enabled() accepts a missing one).
With wait_name it waits for READY=1 and records whether the name was already owned then.
The socket is read in the background all along, as a service manager does.
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from alopex_tap import (Skip, Tap, bail_out, check, check_eq, diag, in_ci,  # noqa: F401
                        skip_all)  # (re-exported)

INSIDE_MARKER = 'ALOPEX_HARNESS_INSIDE'
HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))

# Suite users (units/sysusers.d/alopex.conf) and test users, added to private copies of
# /etc/passwd and /etc/group. uid/gid are only preferences: taken ones are skipped.
SUITE_USERS = ['alopex-link', 'alopex-fw', 'alopex-slirp', 'alopex-ovs', 'alopex-dns']
TEST_USERS = {'alopex-test': [], 'alopex-netdev': ['netdev']}
BASE_ID = 4700

DEBIAN_DEFAULT_POLICY = """
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
"""


def enter_namespaces(extra_env=None):
    """Re-executes the running script inside fresh net/mount/pid namespaces (once)."""
    if os.environ.get(INSIDE_MARKER) == '1':
        return
    if os.geteuid() != 0:
        sys.exit(skip_all('integration tests need root (namespaces, bind mounts)'))
    env = dict(os.environ)
    env.update(extra_env or {})
    env[INSIDE_MARKER] = '1'
    argv = ['unshare', '--net', '--mount', '--propagation', 'private', '--pid',
            '--mount-proc', '--fork', '--kill-child', '--',
            sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]]
    sys.stdout.flush()
    os.execvpe('unshare', argv, env)


def wait_until(pred, timeout=10.0, interval=0.02, what='condition'):
    """Polls pred() until it returns a truthy value (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise TimeoutError(f'timed out after {timeout}s waiting for {what} (last: {last!r})')
        time.sleep(interval)


def _pdeathsig():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG


def _free_id(taken, start):
    i = start
    while i in taken:
        i += 1
    taken.add(i)
    return i


def build_identity_files(passwd_text, group_text):
    """Returns (passwd, group, ids) with the suite and test users added where missing."""
    users = {l.split(':')[0]: l.split(':') for l in passwd_text.splitlines() if l.count(':') >= 6}
    groups = {l.split(':')[0]: l.split(':') for l in group_text.splitlines() if l.count(':') >= 3}
    taken_u = {int(u[2]) for u in users.values() if u[2].isdigit()}
    taken_g = {int(g[2]) for g in groups.values() if g[2].isdigit()}
    p_add, g_add, members = [], [], {}

    def group(name, pref):
        if name not in groups:
            gid = _free_id(taken_g, pref)
            groups[name] = [name, 'x', str(gid), '']
            g_add.append(name)
        return int(groups[name][2])

    alopex_gid = group('alopex', BASE_ID)
    netdev_gid = group('netdev', BASE_ID + 90)  # noqa: F841 (created for TEST_USERS)
    wanted = [(n, alopex_gid, []) for n in SUITE_USERS]
    wanted += [(n, None, extra) for n, extra in TEST_USERS.items()]
    for i, (name, gid, extra) in enumerate(wanted, 1):
        if name in users:
            continue
        uid = _free_id(taken_u, BASE_ID + i if gid else BASE_ID + 10 + i)
        if gid is None:
            gid = group(name, uid)
        users[name] = [name, 'x', str(uid), str(gid), 'alopex test', '/nonexistent',
                       '/usr/sbin/nologin']
        p_add.append(name)
        for g in extra:
            members.setdefault(g, []).append(name)
    for g, names in members.items():
        cur = [m for m in groups[g][3].split(',') if m]
        groups[g][3] = ','.join(cur + [n for n in names if n not in cur])
    passwd_out = passwd_text.rstrip('\n') + '\n' + ''.join(':'.join(users[n]) + '\n' for n in p_add)
    group_lines = []
    for line in group_text.splitlines():
        name = line.split(':')[0]
        group_lines.append(':'.join(groups[name]) if name in groups and line.count(':') >= 3 else line)
    group_lines += [':'.join(groups[n]) for n in g_add]
    ids = {n: (int(u[2]), int(u[3])) for n, u in users.items()}
    return passwd_out, '\n'.join(group_lines) + '\n', ids


class Proc:
    """A process started by the sandbox; its output goes to a log file."""

    def __init__(self, name, popen, log_path):
        self.name, self.popen, self.log_path = name, popen, log_path
        self.notify = None              # NotifySocket when started with notify=True
        self.name_owned_at_ready = None  # bool, see Sandbox.start_daemon

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log(self, tail=60):
        try:
            with open(self.log_path, errors='replace') as f:
                lines = f.read().splitlines()
        except OSError:
            return ''
        return '\n'.join(lines[-tail:])

    def stop(self, timeout=5.0):
        if self.popen.poll() is not None:
            return self.popen.returncode
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


class NotifySocket:
    """The service manager's end of sd_notify(3): a bound AF_UNIX SOCK_DGRAM socket with
    SO_PASSCRED, so each datagram comes with the sender's pid as the kernel saw it.
    messages: list of (monotonic time, sender pid, {KEY: value}) in arrival order; a key
    sent twice in one datagram keeps its last value."""

    def __init__(self, path):
        self.path = path
        self.messages = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        os.chmod(path, 0o666)   # daemons that run as another user may send too
        self.sock.setblocking(False)
        self.lock = threading.Lock()
        self.closed = False

    def start_draining(self, interval=0.1):
        """Keeps reading the socket in a background thread, as a service manager does:
        sd_notify blocks once the datagram queue is full (net.unix.max_dgram_qlen is 10
        in a fresh network namespace) and a daemon with a watchdog keeps sending."""
        def loop():
            while not self.closed:
                try:
                    self.drain()
                except OSError:
                    return
                time.sleep(interval)
        threading.Thread(target=loop, daemon=True).start()

    def drain(self):
        """Reads every queued datagram into self.messages; returns self.messages."""
        with self.lock:
            return self._drain_locked()

    def _drain_locked(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except BlockingIOError:
                return self.messages
            pid = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack('iII', payload[:12])[0]
            fields = {}
            for line in data.decode(errors='replace').split('\n'):
                if '=' in line:
                    k, v = line.split('=', 1)
                    fields[k] = v
            self.messages.append((time.monotonic(), pid, fields))

    def find(self, key, value=None):
        """Messages (drained first) that carry key (with that value, when given)."""
        return [m for m in self.drain() if key in m[2] and (value is None or m[2][key] == value)]

    def wait_for(self, key, value=None, count=1, timeout=10, proc=None):
        """Waits for `count` messages carrying key[=value]; returns them."""
        def enough():
            if proc is not None and not proc.alive():
                raise RuntimeError(f'{proc.name} exited ({proc.popen.returncode}) before '
                                   f'sending {key}={value}:\n{proc.log()}')
            found = self.find(key, value)
            return found if len(found) >= count else None
        return wait_until(enough, timeout, 0.01, f'{count} x {key}={value} on {self.path}')

    def close(self):
        self.closed = True
        with self.lock:
            self.sock.close()


class Sandbox:
    """Temp dirs, users, a private bus, daemons; cleaned up on exit (see module doc)."""

    def __init__(self, name='alopex', tmpfs=True, build_dir=None, source_dir=None):
        self.build_dir = os.path.abspath(build_dir or os.environ.get('ALOPEX_BUILD_DIR', '.'))
        self.source_dir = os.path.abspath(source_dir or os.environ.get(
            'ALOPEX_SOURCE_DIR', os.path.join(HARNESS_DIR, '..', '..')))
        self.name, self.tmpfs = name, tmpfs
        self.procs, self.mounts, self.ids = [], [], {}
        self.sockets = []
        self.root = None
        self.bus_address = None
        self.bus = self.polkit = None
        self._old_handlers = {}

    # ---- lifecycle ---------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def start(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        self.root = tempfile.mkdtemp(prefix=f'{self.name}-')
        os.chmod(self.root, 0o755)
        if self.tmpfs:
            self._mount(['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', self.root], self.root)
        for d in ('config', 'state', 'runtime', 'bus', 'log', 'tmp', 'etc', 'notify'):
            os.makedirs(self.path(d), mode=0o755, exist_ok=True)
        self.config_dir, self.state_dir = self.path('config'), self.path('state')
        self.runtime_dir, self.log_dir = self.path('runtime'), self.path('log')
        self._install_users()
        subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _on_signal(self, signum, frame):
        raise SystemExit(128 + signum)

    def cleanup(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception:
                pass
        self.procs.clear()
        for s in self.sockets:
            s.close()
        self.sockets.clear()
        for m in reversed(self.mounts):
            subprocess.run(['umount', '-l', m], check=False, stderr=subprocess.DEVNULL)
        self.mounts.clear()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        for sig, h in self._old_handlers.items():
            signal.signal(sig, h)
        self._old_handlers.clear()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def build_path(self, rel):
        return os.path.join(self.build_dir, rel)

    def source_path(self, rel):
        return os.path.join(self.source_dir, rel)

    def _mount(self, args, target):
        subprocess.run(['mount', *args], check=True)
        self.mounts.append(target)

    def bind(self, src, target):
        """Bind-mounts src over target (only inside our private mount namespace)."""
        self._mount(['--bind', src, target], target)

    # ---- users -------------------------------------------------------------------
    def _install_users(self):
        with open('/etc/passwd') as f:
            pw = f.read()
        with open('/etc/group') as f:
            gr = f.read()
        pw, gr, self.ids = build_identity_files(pw, gr)
        for name, text in (('passwd', pw), ('group', gr)):
            p = self.path('etc', name)
            with open(p, 'w') as f:
                f.write(text)
            os.chmod(p, 0o644)
            self.bind(p, f'/etc/{name}')

    def user(self, name):
        """(uid, gid) of a user in the sandbox's passwd."""
        return self.ids[name]

    # ---- environment and processes -----------------------------------------------
    def env(self, extra=None):
        e = dict(os.environ)
        e.update({'CONFIGURATION_DIRECTORY': self.config_dir, 'STATE_DIRECTORY': self.state_dir,
                  'RUNTIME_DIRECTORY': self.runtime_dir, 'TMPDIR': self.path('tmp'),
                  'SYSTEMD_LOG_LEVEL': 'info'})
        for var in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'):
            e.pop(var, None)   # never the runner's own service manager
        if self.bus_address:
            e['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus_address
        e.update(extra or {})
        return e

    def as_user_argv(self, user, argv):
        if user is None or user == 'root':
            return list(argv)
        uid, gid = self.user(user) if isinstance(user, str) else (user, user)
        return ['setpriv', f'--reuid={uid}', f'--regid={gid}', '--init-groups', '--', *argv]

    def spawn(self, name, argv, env=None, as_user=None, pass_fds=(), stdio=None):
        """Starts a long-running process with PR_SET_PDEATHSIG; output to log/<name>.log
        (with `stdio`, an fd, that is its stdin and stdout and the log has its stderr)."""
        log_path = self.path('log', f'{name}.log')
        logf = open(log_path, 'ab')
        try:
            popen = subprocess.Popen(self.as_user_argv(as_user, argv), env=env or self.env(),
                                     stdin=subprocess.DEVNULL if stdio is None else stdio,
                                     stdout=logf if stdio is None else stdio, stderr=logf,
                                     preexec_fn=_pdeathsig, pass_fds=pass_fds)
        finally:
            logf.close()
        p = Proc(name, popen, log_path)
        self.procs.append(p)
        return p

    def run(self, argv, as_user=None, input=None, timeout=60, env=None):
        """Runs a command to completion; returns (rc, stdout, stderr) as text."""
        r = subprocess.run(self.as_user_argv(as_user, argv), env=env or self.env(),
                           input=input, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def logs(self, tail=40):
        """Tail of every process log, for failure diagnostics, after the first error and
        warning lines from before the tail (a repeating message can push the cause out)."""
        out = []
        for p in self.procs:
            state = 'running' if p.alive() else f'exited {p.popen.returncode}'
            full = p.log(10 ** 9).splitlines()
            earlier = [l for l in full[:-tail] if ' err: ' in l or ' warning: ' in l or ' crit: ' in l]
            head = ''
            if earlier:
                head = '(first errors and warnings before the tail)\n' + '\n'.join(earlier[:15]) + '\n(tail)\n'
            out.append(f'--- {p.name} ({state}) ---\n{head}{p.log(tail)}')
        return '\n'.join(out)

    # ---- D-Bus -------------------------------------------------------------------
    def bus_config(self, extra_confs=()):
        includes = sorted(
            os.path.join(self.source_dir, 'policy', 'dbus', f)
            for f in os.listdir(os.path.join(self.source_dir, 'policy', 'dbus'))
            if f.endswith('.conf'))
        pk = '/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf'
        if os.path.exists(pk):
            includes.append(pk)
        includes.append(os.path.join(HARNESS_DIR, 'org.alopex.Test1.conf'))
        includes += list(extra_confs)
        inc = ''.join(f'  <include>{p}</include>\n' for p in includes)
        return ('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
                ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                '<busconfig>\n  <type>system</type>\n'
                f'  <listen>unix:path={self.path("bus", "system_bus_socket")}</listen>\n'
                '  <auth>EXTERNAL</auth>\n' + DEBIAN_DEFAULT_POLICY + inc + '</busconfig>\n')

    def start_bus(self, extra_confs=(), timeout=10):
        """Starts the private system-style dbus-daemon; sets self.bus_address."""
        conf = self.path('bus', 'system.conf')
        with open(conf, 'w') as f:
            f.write(self.bus_config(extra_confs))
        rfd, wfd = os.pipe()
        self.bus = self.spawn('dbus-daemon', ['dbus-daemon', f'--config-file={conf}', '--nofork',
                                              '--nopidfile', f'--print-address={wfd}'],
                              pass_fds=(wfd,))
        os.close(wfd)
        addr = b''
        deadline = time.monotonic() + timeout
        with os.fdopen(rfd, 'rb') as r:
            while not addr.endswith(b'\n') and time.monotonic() < deadline:
                chunk = r.read1(256) if hasattr(r, 'read1') else r.read(256)
                if not chunk:
                    break
                addr += chunk
        if not addr.strip():
            raise RuntimeError(f'dbus-daemon did not start:\n{self.bus.log()}')
        self.bus_address = addr.decode().strip()
        return self.bus_address

    def busctl(self, *args, as_user=None, timeout=60):
        """busctl --address=<private bus> ARGS; returns (rc, stdout, stderr)."""
        return self.run(['busctl', f'--address={self.bus_address}', *args],
                        as_user=as_user, timeout=timeout)

    def call(self, dest, path, iface, method, sig='', *args, as_user=None):
        """Method call through busctl --json=short; returns (rc, data list or None, stderr)."""
        argv = ['--json=short', 'call', dest, path, iface, method]
        if sig:
            argv += [sig, *[str(a) for a in args]]
        rc, out, err = self.busctl(*argv, as_user=as_user)
        data = json.loads(out)['data'] if rc == 0 and out.strip() else None
        return rc, data, err

    def name_has_owner(self, name):
        rc, data, _ = self.call('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                'org.freedesktop.DBus', 'NameHasOwner', 's', name)
        return rc == 0 and data == [True]

    def wait_for_name(self, name, timeout=20, proc=None):
        def owned():
            if proc is not None and not proc.alive():
                raise RuntimeError(f'{proc.name} exited ({proc.popen.returncode}) before '
                                   f'owning {name}:\n{proc.log()}')
            return self.name_has_owner(name)
        wait_until(owned, timeout, 0.05, f'{name} on the bus')

    def get_property(self, dest, path, iface, prop, as_user=None):
        rc, out, err = self.busctl('--json=short', 'get-property', dest, path, iface, prop,
                                   as_user=as_user)
        if rc != 0:
            raise RuntimeError(f'get-property {prop} failed: {err.strip()}')
        return json.loads(out)['data']

    def wait_for_property(self, dest, path, iface, prop, want, timeout=20):
        """Waits until the property equals want (or want(value) is true when callable)."""
        def ok():
            try:
                v = self.get_property(dest, path, iface, prop)
            except RuntimeError:
                return False
            return want(v) if callable(want) else v == want
        return wait_until(ok, timeout, 0.05, f'{prop} == {want!r}')

    # ---- daemons -----------------------------------------------------------------
    def notify_socket(self, name):
        """A new NotifySocket at notify/<name>.sock, closed with the sandbox."""
        ns = NotifySocket(self.path('notify', f'{name}.sock'))
        self.sockets.append(ns)
        return ns

    def start_daemon(self, rel, name=None, args=(), wait_name=None, env=None, as_user=None,
                     timeout=20, notify=False, watchdog_usec=400000):
        """Starts a build-tree binary (path relative to the build dir) and waits for its
        bus name when wait_name is given. With notify=True the daemon gets NOTIFY_SOCKET
        and WATCHDOG_USEC (proc.notify is the NotifySocket); with wait_name too, READY=1 is
        awaited first and proc.name_owned_at_ready tells whether the name was owned when
        READY=1 arrived (a daemon must not report ready before it can be called)."""
        exe = self.build_path(rel)
        if not os.path.exists(exe):
            raise Skip(f'{rel} is not built')   # a failure under CI=true
        name = name or os.path.basename(rel)
        ns = None
        if notify:
            ns = self.notify_socket(name)
            env = dict(env or self.env())
            env['NOTIFY_SOCKET'] = ns.path
            env['WATCHDOG_USEC'] = str(watchdog_usec)
        p = self.spawn(name, [exe, *args], env=env, as_user=as_user)
        p.notify = ns
        if ns is not None:
            ns.start_draining()
        if wait_name:
            if ns is not None:
                ns.wait_for('READY', '1', timeout=timeout, proc=p)
                p.name_owned_at_ready = self.name_has_owner(wait_name)
            self.wait_for_name(wait_name, timeout, proc=p)
        return p

    def start_broker(self, toml_text, timeout=20, notify=False):
        with open(os.path.join(self.config_dir, 'broker.toml'), 'w') as f:
            f.write(toml_text)
        return self.start_daemon('daemons/brokerd/alopex-brokerd',
                                 wait_name='org.alopex.Broker1', timeout=timeout,
                                 notify=notify)

    # ---- polkit --------------------------------------------------------------------
    def start_polkit(self, rules=(), timeout=20):
        """polkitd on the private bus with policy/polkit/*.policy as its actions, our
        policy/polkit/*.rules in /usr/share/polkit-1/rules.d and `rules` (list of
        (filename, text)) in /etc/polkit-1/rules.d — all bind-mounted privately."""
        exe = '/usr/lib/polkit-1/polkitd'
        if not os.path.exists(exe):
            raise Skip('polkitd is not installed')   # a failure under CI=true
        src = os.path.join(self.source_dir, 'policy', 'polkit')
        actions, share_rules, etc_rules = (self.path('polkit', d) for d in
                                           ('actions', 'share-rules', 'etc-rules'))
        for d in (actions, share_rules, etc_rules):
            os.makedirs(d, mode=0o755, exist_ok=True)
            os.chmod(os.path.dirname(d), 0o755)
        for f in sorted(os.listdir(src)) if os.path.isdir(src) else []:
            if f.endswith('.policy'):
                shutil.copy(os.path.join(src, f), actions)
            elif f.endswith('.rules'):
                shutil.copy(os.path.join(src, f), share_rules)
        for fname, text in rules:
            with open(os.path.join(etc_rules, fname), 'w') as f:
                f.write(text)
        for d in (actions, share_rules, etc_rules):
            for f in os.listdir(d):
                os.chmod(os.path.join(d, f), 0o644)
        self.bind(actions, '/usr/share/polkit-1/actions')
        self.bind(share_rules, '/usr/share/polkit-1/rules.d')
        os.makedirs('/etc/polkit-1/rules.d', exist_ok=True)
        self.bind(etc_rules, '/etc/polkit-1/rules.d')
        return self.restart_polkit(timeout)

    def restart_polkit(self, timeout=20):
        """(Re)starts polkitd on what start_polkit set up; waits for its bus name."""
        self.stop_polkit()
        self.polkit = self.spawn('polkitd', ['/usr/lib/polkit-1/polkitd', '--no-debug'])
        self.wait_for_name('org.freedesktop.PolicyKit1', timeout, proc=self.polkit)
        return self.polkit

    def stop_polkit(self):
        if self.polkit:
            self.polkit.stop()
            wait_until(lambda: not self.name_has_owner('org.freedesktop.PolicyKit1'), 10,
                       what='polkit gone from the bus')
            self.polkit = None


SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:')


def check_clean_exit(sb):
    """Stops every process of the sandbox and fails on sanitizer reports in their logs."""
    reports = []
    for p in list(sb.procs):
        p.stop()
        log = p.log(tail=10**6)
        if any(m in log for m in SANITIZER_MARKS):
            reports.append(f'--- {p.name} ---\n{p.log(80)}')
    sb.procs.clear()
    if reports:
        raise AssertionError('sanitizer reports:\n' + '\n'.join(reports))


def main(tap, setup=None, **sandbox_args):
    """Enters the namespaces, builds a Sandbox, runs setup(sb), then the TAP tests, then
    a last test that stops every daemon and fails on sanitizer reports in their logs.
    Exits with the script's status (1 on any failure or a failed setup: a "Bail out!"
    without a plan must not pass for a skip)."""
    sys.exit(_main(tap, setup, **sandbox_args))


def _main(tap, setup=None, **sandbox_args):
    enter_namespaces()
    tap.add('daemons stop without sanitizer reports', check_clean_exit, final=True)
    try:
        with Sandbox(**sandbox_args) as sb:
            tap.on_failure.append(lambda name: sb.logs())
            if setup:
                try:
                    setup(sb)
                except Skip as e:
                    return skip_all(str(e), e.optional)   # a failure under CI=true
                except Exception:
                    import traceback
                    bail_out(f'setup failed\n{traceback.format_exc()}\n{sb.logs()}')
                    return 1
            return 1 if tap.run(sb) else 0
    finally:
        sys.stdout.flush()
