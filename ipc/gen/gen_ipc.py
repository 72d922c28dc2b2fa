#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generates the C++ declaration of every interface in one introspection XML file.

The XML in ipc/ is the single source of truth. For ipc/org.alopex.Link1.xml this writes
alopex/ipc/link1_spec.hpp with, per interface (namespace alopex::ipc::link1::<last
component of the interface name, lower case>, or ::api when that is the file's own name,
as for org.alopex.Broker1):

    interface                       the interface name
    method::<Name>                  bus::MethodSpec (name, in/out signatures and names)
    property::<Name>                bus::PropertySpec (name, signature, flags)
    signal::<Name>                  bus::SignalSpec
    spec                            bus::InterfaceSpec over all of them

libcommon's bus::Vtable binds C++ handlers and getters to these and refuses (at
attach) any method or property the XML has and the C++ side does not, and any
signature that differs; ipc/client readers name properties through the same specs.
"""
import re
import sys
import xml.etree.ElementTree as ET

EMITS = 'org.freedesktop.DBus.Property.EmitsChangedSignal'
EXPLICIT = 'org.freedesktop.systemd1.Explicit'
IDENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def c_string(parts):
    """A C++ string literal of NUL-terminated names: "a\\0b\\0"."""
    return '"' + ''.join(p + '\\0' for p in parts) + '"'


def ident(name, what):
    if not IDENT.match(name):
        sys.exit(f'gen_ipc: {what} {name!r} is not a C++ identifier')
    return name


def annotations(el):
    return {a.get('name'): a.get('value') for a in el.findall('annotation')}


def property_flags(p):
    ann = annotations(p)
    emits = ann.get(EMITS, 'true')
    flags = {'true': 'EmitsChange', 'invalidates': 'EmitsInvalidation', 'const': 'Const',
             'false': 'None'}.get(emits)
    if flags is None:
        sys.exit(f'gen_ipc: property {p.get("name")}: unknown {EMITS} value {emits!r}')
    out = [f'::alopex::bus::PropertyFlags::{flags}']
    if ann.get(EXPLICIT) == 'true':
        out.append('::alopex::bus::PropertyFlags::Explicit')
    if p.get('access', 'read') != 'read':
        sys.exit(f'gen_ipc: property {p.get("name")}: only read-only properties are supported')
    return ' | '.join(out)


def args(el, direction):
    sig, names = '', []
    for a in el.findall('arg'):
        if a.get('direction', 'in' if el.tag == 'method' else 'out') != direction:
            continue
        sig += a.get('type')
        names.append(a.get('name') or f'arg{len(names)}')
    return sig, names


def interface_block(iface, file_ns):
    name = iface.get('name')
    ns = ident(name.rsplit('.', 1)[-1].lower(), 'interface')
    if ns == file_ns:
        ns = 'api'   # org.alopex.Broker1 in broker1.xml: alopex::ipc::broker1::api
    out = [f'namespace alopex::ipc::{file_ns}::{ns} {{',
           f'inline constexpr const char *interface = "{name}";', '']
    methods = iface.findall('method')
    props = iface.findall('property')
    signals = iface.findall('signal')
    out.append('namespace method {')
    for m in methods:
        n = ident(m.get('name'), 'method')
        isig, inames = args(m, 'in')
        osig, onames = args(m, 'out')
        out.append(f'inline constexpr ::alopex::bus::MethodSpec {n}{{"{n}", "{isig}", '
                   f'{c_string(inames)}, "{osig}", {c_string(onames)}, '
                   f'{c_string(inames + onames)}}};')
    out.append('} // namespace method')
    out.append('namespace property {')
    for p in props:
        n = ident(p.get('name'), 'property')
        out.append(f'inline constexpr ::alopex::bus::PropertySpec {n}{{"{n}", "{p.get("type")}", '
                   f'{property_flags(p)}}};')
    out.append('} // namespace property')
    out.append('namespace signal {')
    for s in signals:
        n = ident(s.get('name'), 'signal')
        sig, names = args(s, 'out')
        out.append(f'inline constexpr ::alopex::bus::SignalSpec {n}{{"{n}", "{sig}", '
                   f'{c_string(names)}}};')
    out.append('} // namespace signal')

    def table(kind, plural, typ, items):
        if not items:
            return f'inline constexpr std::span<const ::alopex::bus::{typ} *const> {plural}{{}};'
        refs = ', '.join(f'&{kind}::{i.get("name")}' for i in items)
        return (f'inline constexpr const ::alopex::bus::{typ} *{plural}_array[] = {{{refs}}};\n'
                f'inline constexpr std::span<const ::alopex::bus::{typ} *const> {plural}{{{plural}_array}};')
    out.append(table('method', 'methods', 'MethodSpec', methods))
    out.append(table('property', 'properties', 'PropertySpec', props))
    out.append(table('signal', 'signals', 'SignalSpec', signals))
    out.append('inline constexpr ::alopex::bus::InterfaceSpec spec{interface, methods, '
               'properties, signals};')
    out.append(f'}} // namespace alopex::ipc::{file_ns}::{ns}')
    return '\n'.join(out)


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: gen_ipc.py INPUT.xml FILE_NAMESPACE OUTPUT.hpp')
    src, file_ns, dst = sys.argv[1:]
    root = ET.parse(src).getroot()
    blocks = [interface_block(i, ident(file_ns, 'namespace')) for i in root.findall('interface')]
    if not blocks:
        sys.exit(f'gen_ipc: {src} declares no interface')
    text = ('// SPDX-License-Identifier: GPL-2.0-or-later\n'
            f'// Generated by ipc/gen/gen_ipc.py from {src.rsplit("/", 1)[-1]}; do not edit.\n'
            '#pragma once\n\n#include <span>\n\n#include "alopex/bus/spec.hpp"\n\n'
            + '\n\n'.join(blocks) + '\n')
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
