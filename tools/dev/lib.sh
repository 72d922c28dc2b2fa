# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by tools/dev/try and tools/dev/test: install Debian packages, configure, build.
set -euo pipefail

ALOPEX_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: run as root (it installs Debian packages and creates network namespaces)" >&2
        exit 1
    fi
}

# install_packages LIST...: installs the packages of tools/dev/LIST (one per line) that
# are missing. Services that packages would start at install time (ovsdb-server, dbus) are
# kept from starting: the tests run their own private instances.
install_packages() {
    local pkgs missing=() list
    pkgs=$(for list in "$@"; do grep -v '^#' "$ALOPEX_SRC/tools/dev/$list" | grep -v '^$'; done)
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ] && [ "${CI:-}" != "true" ]; then
        return 0
    fi
    echo "==> apt-get update; installing: ${missing[*]:-(nothing missing)}"
    apt-get update -qq
    if [ "${#missing[@]}" -gt 0 ]; then
        local created_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            created_policy=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || { [ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; return 1; }
        [ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    fi
    return 0
}

# configure_build DIR [meson options...]: configures (or reconfigures) and builds all.
configure_build() {
    local dir="$1"; shift
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$ALOPEX_SRC" "$@" >/dev/null
    fi
    ninja -C "$dir"
}
