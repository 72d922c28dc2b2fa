# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario fwd-nopersist, sourced in the test VM (tests/harness/alopex_vm.py's runner, which
# sets $out and run()) on Debian 12's kernel (6.1), which has table owner flags but not
# NFT_TABLE_F_PERSIST (6.9): the fallback to an owner-less table and a full apply there;
# and alopex-fwd as a daemon on a kernel that refuses a rule (daemon_refused.py: before
# nft_nat is loaded, with autoloading switched off).
uname -r > "$out/kernel.txt"
# Modules are loaded here, not autoloaded: first everything fwd needs but DNAT (nft_nat).
# (A scenario that runs before this one in the same boot must not load nft_nat.)
for m in veth nf_tables nft_objref nft_ct nft_limit nft_log nf_log_syslog nft_reject_inet nft_masq nft_chain_nat; do
    modprobe "$m" || echo "modprobe $m failed"
done > "$out/modprobe.txt" 2>&1
if grep -q '^nft_nat ' /proc/modules; then
    echo "nft_nat is loaded already: the refusal is not exercised" >> "$out/modprobe.txt"
fi
modprobe_path=$(cat /proc/sys/kernel/modprobe)
echo /nonexistent > /proc/sys/kernel/modprobe
# Emulated and maybe sanitized: fwd takes far longer than on the host to reach READY=1.
run daemon-refused env ALOPEX_START_TIMEOUT=600 \
    /usr/bin/python3 "$ALOPEX_SOURCE_DIR/tests/integration/fwd/nft/vm/daemon_refused.py"
echo "$modprobe_path" > /proc/sys/kernel/modprobe
modprobe nft_nat >> "$out/modprobe.txt" 2>&1 || echo "modprobe nft_nat failed" >> "$out/modprobe.txt"
exe="$ALOPEX_BUILD_DIR/tests/integration/fwd/nft/test-fwd-nft-kernel"
run no-persist unshare --net "$exe" '[no-persist]'
run full-apply unshare --net "$exe" 'a full apply builds the table*'
