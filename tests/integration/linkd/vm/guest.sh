#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs in the test VM (tests/harness/alopex_vm.py), whose Debian kernel has 8021q and
# bonding: the netdev tests of linkd with every link kind required. One output file and
# one exit status per test in /run/results.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
out=/run/results
. "$out/env"
export ALOPEX_BUILD_DIR ALOPEX_SOURCE_DIR PYTHONPATH PYTHONDONTWRITEBYTECODE CI ASAN_OPTIONS UBSAN_OPTIONS
export ALOPEX_REQUIRE_NETDEVS=1
for m in 8021q bonding veth bridge; do
    modprobe "$m" > "$out/modprobe-$m.txt" 2>&1
    echo $? > "$out/modprobe-$m.rc"
done
run() {
    name=$1
    shift
    "$@" > "$out/$name.out" 2>&1
    echo $? > "$out/$name.rc"
}
run rtnl-kernel unshare --net "$ALOPEX_BUILD_DIR/tests/integration/linkd/rtnl/test-linkd-rtnl-kernel"
# Only the tests that make VLANs and bonds: the rest runs outside the VM, and everything
# is many times slower under emulation.
run linkd-daemon env ALOPEX_TAP_ONLY='every method does what it says' \
    /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/linkd/daemon/test_linkd_daemon.py"
run linkd-profiles env ALOPEX_TAP_ONLY='a VLAN on a veth and a bond' \
    /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/linkd/profiles/test_linkd_profiles.py"
echo done > "$out/finished"
