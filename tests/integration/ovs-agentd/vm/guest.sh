# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario ovs-kernel, sourced in the test VM (tests/harness/alopex_vm.py's runner, which
# sets $out and run()): Debian's kernel has openvswitch, so alopex-ovs-agentd keeps ports
# on a bridge of the kernel's datapath there (test_ovs_kernel.py, with CI=true).
modprobe openvswitch > "$out/modprobe-openvswitch.txt" 2>&1
echo $? > "$out/modprobe-openvswitch.rc"
run ovs-kernel /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/ovs-agentd/vm/test_ovs_kernel.py"
