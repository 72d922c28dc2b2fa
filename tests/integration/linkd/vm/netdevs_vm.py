# SPDX-License-Identifier: GPL-2.0-or-later
"""Scenario linkd-netdevs of the test VM (tests/integration/vm): this machine's kernel may
lack 8021q and bonding, so linkd's tests that make VLANs and bonds run on Debian's own
kernel (guest.sh): the rtnetlink requests (VLAN on a veth, a bond with a port), CreateNetdev
of a VLAN over D-Bus, and VLAN/bond profiles created and deleted again; each checked with
`ip -j` inside the VM, with CI=true there, so a missing link kind is a failure."""
import alopex_harness as h


def register(tap, vm):
    """Adds this scenario's TAP tests; vm(): its alopex_vm.Scenario once the VM has run."""
    @tap.test("the VM booted Debian's kernel and loaded 8021q and bonding")
    def _(sb):
        vm().check_finished()
        for m in ('8021q', 'bonding'):
            h.check_eq((vm().result(f'modprobe-{m}.rc') or '').strip(), '0',
                       f'modprobe {m}: {vm().result(f"modprobe-{m}.txt")}')

    @tap.test('rtnetlink requests: VLAN on a veth, bond with a port (linkd-rtnl-kernel [vm])')
    def _(sb):
        out = vm().check_run('rtnl-kernel')
        h.check('All tests passed' in out, out[-2000:])

    @tap.test('D-Bus CreateNetdev of a VLAN (linkd-daemon, its vm tests)')
    def _(sb):
        out = vm().check_run('linkd-daemon')
        h.check('not ok' not in out and 'ok 1 - CreateNetdev of a VLAN' in out, out[-3000:])

    @tap.test('VLAN and bond profiles created with their ports and deleted again (linkd-profiles, its vm tests)')
    def _(sb):
        out = vm().check_run('linkd-profiles')
        h.check('not ok' not in out and 'a VLAN on a veth and a bond' in out, out[-3000:])
