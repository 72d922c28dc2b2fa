# SPDX-License-Identifier: GPL-2.0-or-later
"""Scenario ovs-kernel of the test VM (tests/integration/vm): alopex-ovs-agentd with
Debian's openvswitch.ko (guest.sh runs test_ovs_kernel.py there)."""
import alopex_harness as h


def register(tap, vm):
    """Adds this scenario's TAP tests; vm(): its alopex_vm.Scenario once the VM has run."""
    @tap.test('the VM loaded openvswitch')
    def _(sb):
        vm().check_finished()
        h.check_eq((vm().result('modprobe-openvswitch.rc') or '').strip(), '0',
                   f'modprobe openvswitch: {vm().result("modprobe-openvswitch.txt")}')

    @tap.test('the kernel datapath: ports attached as veths appear (ovs-dpctl), traffic between namespaces, '
              'detached when they go, the uplink migrated and rolled back (test_ovs_kernel.py)')
    def _(sb):
        out = vm().check_run('ovs-kernel')
        h.check('not ok' not in out and 'ok 1 - ' in out and 'ok 2 - ' in out and 'ok 3 - ' in out, out[-3000:])
