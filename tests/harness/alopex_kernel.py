# SPDX-License-Identifier: GPL-2.0-or-later
"""The kernel's view for integration tests, read with the independent tools (`ip -j`,
`nft -j`), never with our own code:

    import alopex_kernel as k
    k.ip(sb, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1')
    k.ip_j(sb, 'addr', 'show', 'dev', 'a0')      # parsed JSON list
    k.ifindex(sb, 'a0')
    k.nft_j(sb, 'list', 'table', 'inet', 'alopex')   # the list under "nftables"
    k.nft_signature(items)                       # comparable: no handles, counter values

Every command runs through the sandbox (its environment, its namespaces); a failing
command fails the test with its stderr."""
import json

from alopex_tap import Skip, check_eq


# ---- ip ----------------------------------------------------------------------------------
def ip(sb, *args):
    """`ip ARGS`; fails the test when it fails."""
    rc, _, err = sb.run(['ip', *args])
    check_eq(rc, 0, f'ip {" ".join(args)}: {err.strip()}')


def ip_j(sb, *args):
    """`ip -j ARGS` parsed (a list; [] when ip printed nothing)."""
    rc, out, err = sb.run(['ip', '-j', *args])
    check_eq(rc, 0, f'ip -j {" ".join(args)}: {err.strip()}')
    return json.loads(out) if out.strip() else []


def ifindex(sb, name):
    return ip_j(sb, 'link', 'show', 'dev', name)[0]['ifindex']


def link_exists(sb, name):
    rc, _, _ = sb.run(['ip', 'link', 'show', 'dev', name])
    return rc == 0


# ---- nft ---------------------------------------------------------------------------------
def nft(sb, *args, input=None):
    """`nft ARGS` (with `input` on stdin); returns its output, fails the test when it fails."""
    rc, out, err = sb.run(['nft', *args], input=input)
    check_eq(rc, 0, f'nft {" ".join(args)}: {err.strip()}')
    return out


def nft_j(sb, *args, check=True):
    """`nft -j ARGS` parsed: the list under "nftables" ([] when nft printed nothing). When
    nft fails: the test fails, or with check=False None is returned."""
    rc, out, err = sb.run(['nft', '-j', *args])
    if rc != 0:
        if check:
            raise AssertionError(f'nft -j {" ".join(args)}: {err.strip()}')
        return None
    return json.loads(out)['nftables'] if out.strip() else []


def objects(items, kind, table='alopex', family='inet'):
    """The objects of one kind ('rule', 'chain', 'set', 'map', 'counter') of one table in
    an nft_j list."""
    return [o[kind] for o in items if kind in o and o[kind].get('table') == table
            and o[kind].get('family') == family]


def elem_text(e):
    """One set or map element in nft's JSON as a comparable string."""
    if isinstance(e, dict) and 'elem' in e:
        return elem_text(e['elem'].get('val'))
    if isinstance(e, dict) and 'prefix' in e:
        return f"{e['prefix']['addr']}/{e['prefix']['len']}"
    if isinstance(e, dict) and 'range' in e:
        return '-'.join(elem_text(x) for x in e['range'])
    if isinstance(e, dict) and 'concat' in e:
        return ' . '.join(elem_text(x) for x in e['concat'])
    if isinstance(e, list):   # a map element: [key, value]
        return f'{elem_text(e[0])} : {json.dumps(e[1], sort_keys=True)}'
    return str(e)


VOLATILE = ('handle', 'packets', 'bytes', 'expires')


def strip_volatile(obj):
    """A copy without what changes while the ruleset does not: handles, counter values,
    element expiry countdowns."""
    if isinstance(obj, dict):
        return {k: strip_volatile(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [strip_volatile(x) for x in obj]
    return obj


def nft_signature(items, ordered=True):
    """A comparable form of an nft_j list: without metainfo, volatile values and the
    tables' flags (`owner` is there only while its owner runs; nft 1.0.6 shows a lone
    persist bit as a stray word). ordered: one JSON text of the list in nft's order;
    otherwise a sorted list of one JSON text per object (order-insensitive)."""
    objs = []
    for o in items:
        if 'metainfo' in o:
            continue
        if 'table' in o:
            o = {'table': {k: v for k, v in o['table'].items() if k != 'flags'}}
        objs.append(strip_volatile(o))
    if ordered:
        return json.dumps(objs, sort_keys=True)
    return sorted(json.dumps(o, sort_keys=True) for o in objs)


def require_link_kind(sb, kind, *type_args, parent=None):
    """Raises Skip unless this kernel makes links of `kind` (`ip link add [link PARENT]
    name probe-kind type KIND TYPE_ARGS`): 8021q and bonding are missing on some test
    machines' kernels. A Skip is a failure under CI=true, and the test VM (Debian's kernel,
    where the tests that need them run: `@tap.test(name, vm=True)`) runs with CI=true."""
    on = ['link', parent] if parent else []
    rc, _, err = sb.run(['ip', 'link', 'add', *on, 'name', 'probe-kind', 'type', kind, *type_args])
    sb.run(['ip', 'link', 'del', 'probe-kind'])
    if rc != 0:
        raise Skip(f'this kernel makes no {kind} links: {err.strip()}')
