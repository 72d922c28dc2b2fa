#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs in the test VM (tests/harness/alopex_vm.py) on Debian 12's kernel (6.1), which has
# table owner flags but not NFT_TABLE_F_PERSIST (6.9): the fallback to an owner-less table
# and a full apply there. One output file and one exit status per run in /run/results.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
out=/run/results
. "$out/env"
export ALOPEX_BUILD_DIR ALOPEX_SOURCE_DIR CI ASAN_OPTIONS UBSAN_OPTIONS
uname -r > "$out/kernel.txt"
# The guest's usermode helper cannot autoload modules from the shared root: load them here.
for m in nf_tables nft_objref nft_ct nft_limit nft_log nft_reject_inet nft_nat nft_masq nft_chain_nat; do
    modprobe "$m" || echo "modprobe $m failed"
done > "$out/modprobe.txt" 2>&1
run() {
    name=$1
    shift
    "$@" > "$out/$name.out" 2>&1
    echo $? > "$out/$name.rc"
}
exe="$ALOPEX_BUILD_DIR/tests/integration/fwd/nft/test-fwd-nft-kernel"
run no-persist unshare --net "$exe" '[no-persist]'
run full-apply unshare --net "$exe" 'a full apply builds the table*'
echo done > "$out/finished"
