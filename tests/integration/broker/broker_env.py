# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared setup of the broker integration tests: broker.toml, managed targets, ovsdb,
the fd-capable client, the broker's log lines, and an independent (python) check of the
ledger chain."""
import hashlib
import json
import os
import re
import shutil

import alopex_harness as h

BROKER = ['org.alopex.Broker1', '/org/alopex/Broker1', 'org.alopex.Broker1']
MAX_CONTENTS = 65536


def broker_toml(sb, limits='', record_callers=('alopex-link',)):
    t = sb.path('targets')
    return f"""# SPDX-License-Identifier: GPL-2.0-or-later
[limits]
max_contents = {MAX_CONTENTS}
{limits}
[[device]]
glob = "/dev/pts/*"
callers = ["alopex-slirp"]

[[file]]
id = "resolv.conf"
path = "{t}/resolv.conf"
callers = ["alopex-dns"]
mode = "0644"

[[block]]
id = "interfaces"
path = "{t}/interfaces"
tag = "ovs"
validator = "interfaces"
callers = ["alopex-ovs"]

[ovsdb]
socket = "{sb.path('ovs', 'db.sock')}"
callers = ["alopex-ovs"]

[record]
callers = {json.dumps(list(record_callers))}
"""


def start_ovsdb(sb):
    """ovsdb-server on a unix socket in the sandbox; returns None when OVS is missing."""
    schema = '/usr/share/openvswitch/vswitch.ovsschema'
    if not (shutil.which('ovsdb-server') and os.path.exists(schema)):
        return None
    d = sb.path('ovs')
    os.makedirs(d, exist_ok=True)
    rc, out, err = sb.run(['ovsdb-tool', 'create', os.path.join(d, 'conf.db'), schema])
    h.check_eq(rc, 0, f'ovsdb-tool create: {err}')
    sock = os.path.join(d, 'db.sock')
    p = sb.spawn('ovsdb-server', ['ovsdb-server', f'--remote=punix:{sock}',
                                  f'--unixctl={os.path.join(d, "ctl")}', '--no-chdir',
                                  f'--log-file={os.path.join(d, "ovsdb.log")}',
                                  os.path.join(d, 'conf.db')])
    h.wait_until(lambda: os.path.exists(sock) or not p.alive(), 20, what='ovsdb socket')
    h.check(p.alive(), f'ovsdb-server died:\n{p.log()}')
    return p


def setup(sb, notify=False, **toml_args):
    """toml_args go to broker_toml (limits, record_callers)."""
    sb.start_bus()
    os.makedirs(sb.path('targets'), mode=0o755)
    sb.ovsdb = start_ovsdb(sb)
    sb.ledger = os.path.join(sb.state_dir, 'ledger.jsonl')
    sb.broker = sb.start_broker(broker_toml(sb, **toml_args), notify=notify)


def setup_with_notify(sb):
    setup(sb, notify=True)


# ---- the broker's log (stderr, libcommon/src/error_log.cpp's format) -----------------
# "alopex-brokerd[PID]: LEVEL: MESSAGE KEY=value KEY=value ..."; values may hold spaces,
# so a field runs up to the next " ALOPEX_X=" (keys are upper case).
LOG_LINE = re.compile(r'^(?P<ident>[^\[\]:]+)\[(?P<pid>\d+)\]: (?P<level>[a-z]+): (?P<rest>.*)$')
FIELD_START = re.compile(r' (?=ALOPEX_[A-Z0-9_]+=)')


def parse_log_line(line):
    """{'ident', 'pid', 'level', 'message', 'fields': {KEY: value}} or None."""
    m = LOG_LINE.match(line)
    if not m:
        return None
    message, *fields = FIELD_START.split(m.group('rest'))
    return {'ident': m.group('ident'), 'pid': int(m.group('pid')), 'level': m.group('level'),
            'message': message, 'fields': dict(f.split('=', 1) for f in fields)}


def log_offset(sb):
    """Current size of the broker's log: pass it to log_entries_since after a call."""
    return os.path.getsize(sb.broker.log_path)


def log_entries_since(sb, offset):
    with open(sb.broker.log_path, 'rb') as f:
        f.seek(offset)
        text = f.read().decode('utf-8', errors='replace')
    return [e for e in map(parse_log_line, text.splitlines()) if e]


def wait_log_entry(sb, offset, timeout=10, **fields):
    """Waits for a log entry after offset whose fields include all of `fields`."""
    def found():
        hits = [e for e in log_entries_since(sb, offset)
                if all(e['fields'].get(k) == v for k, v in fields.items())]
        return hits[0] if hits else None
    return h.wait_until(found, timeout, 0.02, f'broker log entry with {fields}')


def client(sb, method, *args, user=None, opts=(), timeout=120):
    """alopex-test-client call on the broker; returns its stdout ('ERROR name: msg' when
    the call failed)."""
    exe = sb.build_path('tests/harness/alopex-test-client')
    rc, out, err = sb.run([exe, *opts, *BROKER, method, *args], as_user=user, timeout=timeout)
    h.check(rc in (0, 1), f'client failed: rc={rc} out={out!r} err={err!r}')
    return out.rstrip('\n')


def alopexctl(sb):
    """The built alopexctl, or Skip."""
    exe = sb.build_path('tools/alopexctl/alopexctl')
    if not os.path.isfile(exe):
        raise h.Skip('alopexctl is not built yet')
    return exe


def expect_error(out, name, *words):
    h.check(out.startswith(f'ERROR {name}:'), f'want {name}, got {out!r}')
    for w in words:
        h.check(w in out, f'{w!r} not in {out!r}')


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def write_bytes(path, data):
    with open(path, 'wb') as f:
        f.write(data)


# ---- an independent ledger check (COMMON.md's canonical form, not our C++ code) -------
def canonical(rec):
    body = {k: rec[k] for k in ('action', 'actor', 'details', 'prev', 'seq', 'time')}
    return json.dumps(body, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def verify_chain(text):
    """Returns (ok, records, first_bad_line) for a ledger file's text."""
    prev = '0' * 64
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except ValueError:
            return False, i - 1, i
        if sorted(rec) != sorted(['seq', 'time', 'actor', 'action', 'details', 'prev', 'hash']):
            return False, i - 1, i
        want = hashlib.sha256((prev + canonical(rec)).encode()).hexdigest()
        if rec['seq'] != i or rec['prev'] != prev or rec['hash'] != want:
            return False, i - 1, i
        prev = rec['hash']
    return True, len(lines), 0


def ledger_records(sb):
    if not os.path.exists(sb.ledger):
        return []
    with open(sb.ledger, encoding='utf-8') as f:
        return [json.loads(line) for line in f.read().splitlines()]
