# SPDX-License-Identifier: GPL-2.0-or-later
"""Scenario slirpd-pppd of the test VM (tests/integration/vm): the stock pppd with the
kernel's ppp_async and ppp_deflate as slirpd's peer (guest.sh runs test_slirpd_pppd.py
there)."""
import alopex_harness as h


def register(tap, vm):
    """Adds this scenario's TAP tests; vm(): its alopex_vm.Scenario once the VM has run."""
    @tap.test("the VM loaded ppp_async and ppp_deflate")
    def _(sb):
        vm().check_finished()
        for m in ('ppp_async', 'ppp_deflate'):
            h.check_eq((vm().result(f'modprobe-{m}.rc') or '').strip(), '0',
                       f'modprobe {m}: {vm().result(f"modprobe-{m}.txt")}')

    @tap.test('pppd dials slirpd: address, DNS, VJ both ways, ping, ssh, curl, a refused port, Deflate both '
              'ways, novj noccp; slirpd as the client of pppd; CHAP and PAP; IPV6CP, ICMPv6, ssh and curl over IPv6 '
              '(test_slirpd_pppd.py)')
    def _(sb):
        out = vm().check_run('slirpd-pppd')
        h.check('not ok' not in out and 'ok 3 - over ppp0: an interactive ssh session' in out
                and 'ok 4 - an unmapped TCP port' in out and "ok 5 - CCP with the kernel's ppp_deflate" in out
                and "ok 6 - VJ with the kernel's slhc and Deflate" in out and 'ok 7 - pppd with novj noccp' in out
                and 'ok 8 - slirpd as the client of pppd as the server' in out
                and 'ok 9 - [auth]: pppd with user pikvm passes CHAP' in out
                and 'ok 10 - [auth]: pppd as user intruder' in out
                and 'ok 11 - IPv6: IPV6CP with pppd +ipv6' in out,
                out[-3000:])
        for line in out.splitlines():
            if line.startswith(('# vj-', '# deflate', '# rcvd [CCP', '# sent [CCP', '# sent [IPCP', '# listen', '# CHAP', '# PAP', '# rcvd [IPV6CP', '# sent [IPV6CP', '# ipv6')):
                h.diag(f'slirpd in the VM: {line[2:300]}')
