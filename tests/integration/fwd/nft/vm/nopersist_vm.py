# SPDX-License-Identifier: GPL-2.0-or-later
"""Scenario fwd-nopersist of the test VM (tests/integration/vm): nft::Session on a kernel
without NFT_TABLE_F_PERSIST (before 6.9), Debian 12's own (guest.sh): the kernel refuses
the persist flag (EOPNOTSUPP), the session keeps the table without owner and persist
(TableInfo.persist_supported false) so it outlives fwd, and a full apply builds the same
table as on a current kernel; checked with nft inside. Before nft_nat is loaded
(autoloading off), the daemon meets a kernel that refuses a rule its own checks pass
(daemon_refused.py): every such change refused whole."""
import alopex_harness as h


def register(tap, vm):
    """Adds this scenario's TAP tests; vm(): its alopex_vm.Scenario once the VM has run."""
    @tap.test('the VM booted a kernel without NFT_TABLE_F_PERSIST and loaded nf_tables')
    def _(sb):
        vm().check_finished()
        kernel = (vm().result('kernel.txt') or '').strip()
        major, minor = (int(x) for x in kernel.split('-')[0].split('.')[:2])
        h.check((major, minor) < (6, 9), f'kernel {kernel} has persist: the fallback is not exercised')
        modprobe = vm().result('modprobe.txt') or ''
        h.check('failed' not in modprobe and 'loaded already' not in modprobe, modprobe)

    @tap.test('without persist the table is kept owner-less, and applies still work')
    def _(sb):
        out = vm().check_run('no-persist')
        h.check('All tests passed' in out, out[-2000:])

    @tap.test('alopex-fwd on a kernel that refuses DNAT: AddRule, Reload, SIGHUP refused whole, the forward named')
    def _(sb):
        out = vm().check_run('daemon-refused')
        h.check('not ok' not in out and 'ok 3 ' in out, out[-3000:])

    @tap.test('a full apply on the old kernel: the same table, checked with nft')
    def _(sb):
        out = vm().check_run('full-apply')
        h.check('All tests passed' in out, out[-2000:])
