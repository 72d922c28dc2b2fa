# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario linkd-netdevs, sourced in the test VM (tests/harness/alopex_vm.py's runner, which
# sets $out and run()): Debian's kernel has 8021q and bonding, so linkd's tests that make
# VLANs and bonds run here: the rtnetlink cases tagged [vm] and the TAP tests declared
# vm=True (ALOPEX_IN_VM=1), with CI=true, so a missing link kind fails.
for m in 8021q bonding veth bridge; do
    modprobe "$m" > "$out/modprobe-$m.txt" 2>&1
    echo $? > "$out/modprobe-$m.rc"
done
run rtnl-kernel unshare --net "$ALOPEX_BUILD_DIR/tests/integration/linkd/rtnl/test-linkd-rtnl-kernel" '[vm]'
run linkd-daemon /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/linkd/daemon/test_linkd_daemon.py"
run linkd-profiles /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/linkd/profiles/test_linkd_profiles.py"
