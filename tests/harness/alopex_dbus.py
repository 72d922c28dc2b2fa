# SPDX-License-Identifier: GPL-2.0-or-later
"""D-Bus helpers shared by the integration tests (values come from busctl, see
`Sandbox.call` / `Sandbox.get_property`; this module adds what busctl cannot do):

    import alopex_dbus as bus
    res = bus.dbus_send(sb, SERVICE, PATH, IFACE, 'SetMtu', 'int32:3', 'uint32:12')
    bus.expect_error(res, 'org.alopex.Error.InvalidArgument', 'mtu')
    bus.expect_ok(bus.dbus_send(sb, SERVICE, PATH, IFACE, 'Reload'), 'Reload')
    bus.check_introspection(sb, SERVICE, PATH, IFACE, 'ipc/org.alopex.Link1.xml')

dbus-send is used for calls whose *error name* matters (org.alopex.Error.NotAuthorized,
...): busctl prints only the error message. Each daemon's test environment (fwd_env.py,
linkd_env.py, ...) binds its service, object path and interface around these."""
import xml.etree.ElementTree as ET

from alopex_tap import check, check_eq


def dbus_send(sb, service, path, iface, method, *args, user=None, timeout=60):
    """Calls iface.method on service's object path with dbus-send; args are dbus-send typed
    values ('string:x', 'int32:3', 'uint64:7', 'boolean:true'). Returns (ok, error name or
    '', text): the reply on success, dbus-send's error line otherwise."""
    argv = ['dbus-send', f'--bus={sb.bus_address}', f'--dest={service}', '--print-reply',
            f'--reply-timeout={int(timeout * 1000)}', path, f'{iface}.{method}', *args]
    rc, out, err = sb.run(argv, as_user=user, timeout=timeout + 5)
    if rc == 0:
        return True, '', out
    # "Error org.alopex.Error.InvalidArgument: mtu: 12 is outside 68..65535"
    line = err.strip().splitlines()[-1] if err.strip() else ''
    name = line.split(' ', 2)[1].rstrip(':') if line.startswith('Error ') else ''
    return False, name, line


def expect_ok(res, what):
    """Fails unless a dbus_send result succeeded; returns the reply's text."""
    ok, name, text = res
    check(ok, f'{what}: {name} {text}')
    return text


def expect_error(res, name, *words):
    """Fails unless a dbus_send result is the error `name` and its message holds `words`."""
    ok, got, text = res
    check(not ok, f'call succeeded, wanted {name}: {text}')
    check_eq(got, name, f'error name ({text})')
    for w in words:
        check(w in text, f'{w!r} not in {text!r}')


def interface_shape(root, name):
    """The methods (argument names, types, directions), signals and properties (type,
    access) of interface `name` in an introspection XML tree; None when it is absent."""
    for iface in root.iter('interface'):
        if iface.get('name') != name:
            continue
        methods = {m.get('name'): [(a.get('name'), a.get('type'), a.get('direction', 'in'))
                                   for a in m.findall('arg')] for m in iface.findall('method')}
        signals = {s.get('name'): [(a.get('name'), a.get('type')) for a in s.findall('arg')]
                   for s in iface.findall('signal')}
        props = {p.get('name'): (p.get('type'), p.get('access'))
                 for p in iface.findall('property')}
        return {'methods': methods, 'signals': signals, 'properties': props}
    return None


def check_introspection(sb, service, path, iface, xml_rel):
    """The live introspection of `iface` at `path` equals its declaration in the source
    tree's `xml_rel` (ipc/org.alopex.*.xml, the interface's source of truth)."""
    want = interface_shape(ET.parse(sb.source_path(xml_rel)).getroot(), iface)
    check(want is not None and (want['methods'] or want['properties']),
          f'{xml_rel} declares no methods or properties of {iface}')
    rc, out, err = sb.busctl('introspect', '--xml-interface', service, path)
    check_eq(rc, 0, f'introspect {service} {path} ({err.strip()})')
    check_eq(interface_shape(ET.fromstring(out), iface), want, f'{iface} at {path} against {xml_rel}')
