# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario slirpd-pppd, sourced in the test VM (tests/harness/alopex_vm.py's runner, which
# sets $out and run()): Debian's kernel has ppp_async and ppp_deflate, so the stock pppd
# dials slirpd over a pty there, with Deflate (test_slirpd_pppd.py, with CI=true).
for m in ppp_async ppp_deflate; do
    modprobe "$m" > "$out/modprobe-$m.txt" 2>&1
    echo $? > "$out/modprobe-$m.rc"
done
run slirpd-pppd /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/slirpd/vm/test_slirpd_pppd.py"
