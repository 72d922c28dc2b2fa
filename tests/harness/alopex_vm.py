# SPDX-License-Identifier: GPL-2.0-or-later
"""A throwaway virtual machine for tests that need kernel features the test machine's own
kernel lacks (8021q, bonding): Debian's kernel (package linux-image-amd64) under qemu
(qemu-system-x86, software emulation unless ALOPEX_VM_ACCEL=kvm). Its root
file system is the test's own, shared read-only over virtio-9p, with fresh tmpfs on /tmp,
/run, /var/tmp and /dev/shm; so the build tree, python3, dbus-daemon and polkitd are all
there unchanged. One directory is shared writable at /run/results for what the guest
reports. The initramfs (busybox-static plus the virtio and 9p modules) is built on the fly
into a temporary directory; nothing is downloaded and nothing outside that directory is
written.

    vm = Vm.find()                 # None when the kernel, qemu or busybox is missing
    rc = vm.run(results_dir, 'sh /run/results/guest.sh', timeout=600)

Tests do not boot it themselves: tests/integration/vm/test_vm.py boots it once for every
scenario (GuestRun below), as each boot under emulation costs a minute or more.
"""
import glob
import os
import shutil
import stat
import subprocess
import tempfile
import time

# Loaded in this order in the initramfs (dependencies first); see `modprobe --show-depends`.
BOOT_MODULES = [
    'kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
    'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
    'kernel/drivers/virtio/virtio_pci.ko',
    'kernel/net/9p/9pnet.ko',
    'kernel/net/9p/9pnet_virtio.ko',
    'kernel/fs/netfs/netfs.ko',
    'kernel/fs/fscache/fscache.ko',
    'kernel/fs/9p/9p.ko',
]

MISSING = ('no Debian kernel with its modules, qemu-system-x86_64 or /bin/busybox '
           '(packages linux-image-amd64, qemu-system-x86, busybox-static)')

INIT = r'''#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# alopex test VM: mount the host's tree read-only over 9p and run the command in it.
B=/bin/busybox
$B mkdir -p /proc /sys /dev /mnt
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
for m in $($B cat /modules/order); do
    $B insmod /modules/$m 2>/dev/null || $B echo "alopex-vm: insmod $m failed"
done
# Read-only trees that do not change while the guest runs: cache=loose keeps what was read
# (without it every exec and every python import re-reads over 9p, ten times slower).
if ! $B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /mnt; then
    $B echo "alopex-vm: cannot mount the host's tree"; $B poweroff -f
fi
$B mount -t proc proc /mnt/proc
$B mount -t sysfs sysfs /mnt/sys
$B mount -t devtmpfs devtmpfs /mnt/dev
$B mkdir -p /mnt/dev/pts /mnt/dev/shm
$B mount -t devpts devpts /mnt/dev/pts
for d in /mnt/tmp /mnt/run /mnt/var/tmp /mnt/dev/shm; do $B mount -t tmpfs tmpfs $d; done
$B mount -t cgroup2 cgroup2 /mnt/sys/fs/cgroup 2>/dev/null
$B mkdir -p /mnt/run/results
$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /mnt/run/results
# Directories the command needs that the tmpfs mounts above hide (a checkout in /tmp).
while read tag path; do
    $B mkdir -p "/mnt$path" && $B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose "$tag" "/mnt$path" \
        || $B echo "alopex-vm: cannot mount $path"
done < /binds
$B echo "alopex-vm: running $($B cat /command)"
$B chroot /mnt /bin/sh -c "$($B cat /command)"
$B echo "alopex-vm: done ($?)"
$B sync
$B poweroff -f
'''


def _cpio_entry(name, mode, data=b''):
    """One entry of a newc cpio archive."""
    name_b = name.encode() + b'\0'
    header = '070701' + ''.join(f'{v:08x}' for v in (
        0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
    out = header.encode() + name_b
    out += b'\0' * (-len(out) % 4)
    out += data + b'\0' * (-len(data) % 4)
    return out


class Vm:
    def __init__(self, kernel, modules, qemu, busybox):
        self.kernel, self.modules, self.qemu, self.busybox = kernel, modules, qemu, busybox

    @classmethod
    def find(cls):
        """The newest Debian kernel with its modules, qemu and a static busybox; None
        when one is missing (Debian packages linux-image-amd64, qemu-system-x86,
        busybox-static)."""
        qemu = shutil.which('qemu-system-x86_64')
        busybox = '/bin/busybox'
        if not qemu or not os.path.exists(busybox):
            return None
        for vmlinuz in sorted(glob.glob('/boot/vmlinuz-*'), reverse=True):
            version = vmlinuz[len('/boot/vmlinuz-'):]
            modules = f'/lib/modules/{version}'
            if all(os.path.exists(os.path.join(modules, m)) for m in BOOT_MODULES):
                return cls(vmlinuz, modules, qemu, busybox)
        return None

    def initramfs(self, path, command, binds=()):
        entries = [_cpio_entry('bin', stat.S_IFDIR | 0o755), _cpio_entry('modules', stat.S_IFDIR | 0o755)]
        with open(self.busybox, 'rb') as f:
            entries.append(_cpio_entry('bin/busybox', stat.S_IFREG | 0o755, f.read()))
        entries.append(_cpio_entry('init', stat.S_IFREG | 0o755, INIT.encode()))
        entries.append(_cpio_entry('command', stat.S_IFREG | 0o644, command.encode()))
        entries.append(_cpio_entry('binds', stat.S_IFREG | 0o644,
                                   ''.join(f'bind{i} {p}\n' for i, p in enumerate(binds)).encode()))
        order = []
        for m in BOOT_MODULES:
            with open(os.path.join(self.modules, m), 'rb') as f:
                entries.append(_cpio_entry(f'modules/{os.path.basename(m)}', stat.S_IFREG | 0o644, f.read()))
            order.append(os.path.basename(m))
        entries.append(_cpio_entry('modules/order', stat.S_IFREG | 0o644, '\n'.join(order).encode() + b'\n'))
        entries.append(_cpio_entry('TRAILER!!!', 0))
        with open(path, 'wb') as f:
            f.write(b''.join(entries))

    def run(self, results_dir, command, timeout=900, memory_mb=2048, log_path=None, binds=()):
        """Boots, runs `command` (a shell command line) in the guest as root, powers off.
        Returns qemu's exit status; what the guest reports is in results_dir, the
        console in log_path. `binds`: absolute paths shared read-only at the same place
        (for what lies under /tmp, /run or /var/tmp, which the guest covers with tmpfs)."""
        binds = [os.path.abspath(b) for b in binds]
        with tempfile.TemporaryDirectory(prefix='alopex-vm-') as tmp:
            initrd = os.path.join(tmp, 'initrd.cpio')
            self.initramfs(initrd, command, binds)
            # Software emulation by default: on this project's machines (themselves virtual)
            # a KVM guest hangs in early boot. ALOPEX_VM_ACCEL=kvm where nesting works.
            accel = ['-accel', os.environ.get('ALOPEX_VM_ACCEL', 'tcg'), '-cpu', 'max']
            argv = [self.qemu, *accel, '-m', str(memory_mb), '-smp', '2', '-nographic', '-no-reboot',
                    '-nic', 'none', '-kernel', self.kernel, '-initrd', initrd,
                    '-append', 'console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init',
                    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
                    '-virtfs', f'local,path={results_dir},mount_tag=results,security_model=none']
            for i, b in enumerate(binds):
                argv += ['-virtfs', f'local,path={b},mount_tag=bind{i},security_model=none,readonly=on,'
                         'multidevs=remap']
            with open(log_path or os.devnull, 'ab') as log:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   timeout=timeout)
            return p.returncode


# The guest's side of GuestRun: the environment of the test run, then each scenario's
# guest.sh (sourced in a subshell, with `out` its results directory and `run NAME CMD...`
# writing NAME.out and NAME.rc there), one after another in the one booted kernel.
RUNNER = r'''#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. /run/results/env
export ALOPEX_BUILD_DIR ALOPEX_SOURCE_DIR PYTHONPATH PYTHONDONTWRITEBYTECODE CI ASAN_OPTIONS UBSAN_OPTIONS
export ALOPEX_IN_VM=1
uptime() { cut -d' ' -f1 /proc/uptime; }
uptime > /run/results/booted
run() {
    name=$1
    shift
    t0=$(uptime)
    "$@" > "$out/$name.out" 2>&1
    echo $? > "$out/$name.rc"
    echo "$t0 $(uptime)" > "$out/$name.time"
}
for s in $(cat /run/results/scenarios); do
    out=/run/results/$s
    t0=$(uptime)
    ( . "$out/guest.sh" ) > "$out/guest.log" 2>&1
    echo $? > "$out/guest.rc"
    echo "$t0 $(uptime)" > "$out/guest.time"
done
echo done > /run/results/finished
'''


class GuestRun:
    """One boot of the VM for every scenario of a test run (tests/integration/vm): each
    scenario's guest.sh is copied into a results directory of its own, the environment
    the guest needs goes beside them (the build and source trees are bound into the
    guest; CI=true, as the guest's kernel is known to have every feature the scenarios
    need, so a test that would skip there fails; ALOPEX_IN_VM=1 selects the tests
    declared `vm=True`, see alopex_tap), the VM boots once and runs them in order.

        g = GuestRun(sb, [('linkd-netdevs', guest_sh), ...])   # h.Skip when no VM
        r = g.scenario('linkd-netdevs')
        out = r.check_run('rtnl-kernel')   # rtnl-kernel.rc == 0, else a check fails
    """
    ENV = ('ALOPEX_BUILD_DIR', 'ALOPEX_SOURCE_DIR', 'PYTHONPATH', 'ASAN_OPTIONS', 'UBSAN_OPTIONS')

    def __init__(self, sb, scenarios, timeout=900):
        import alopex_harness as h
        self._h = h
        vm = Vm.find()
        if vm is None:
            raise h.Skip(MISSING)
        self.results = tempfile.mkdtemp(prefix='alopex-vm-results-')
        import atexit
        atexit.register(shutil.rmtree, self.results, True)
        env = {k: os.environ.get(k, '') for k in self.ENV}
        env.update(PYTHONDONTWRITEBYTECODE='1', CI='true')
        with open(os.path.join(self.results, 'env'), 'w') as f:
            f.writelines(f"{k}='{v}'\n" for k, v in env.items())
        for name, guest_sh in scenarios:
            os.makedirs(os.path.join(self.results, name))
            shutil.copy(guest_sh, os.path.join(self.results, name, 'guest.sh'))
        with open(os.path.join(self.results, 'scenarios'), 'w') as f:
            f.write(''.join(f'{name}\n' for name, _ in scenarios))
        with open(os.path.join(self.results, 'run.sh'), 'w') as f:
            f.write(RUNNER)
        self.console = sb.path('log', 'vm-console.log')
        t0 = time.monotonic()
        rc = vm.run(self.results, 'sh /run/results/run.sh', timeout=timeout, log_path=self.console,
                    binds=[os.environ['ALOPEX_SOURCE_DIR'], os.environ['ALOPEX_BUILD_DIR']])
        booted = self.scenario('.').result('booted')
        h.diag(f'VM: {vm.kernel}, qemu exit {rc} after {time.monotonic() - t0:.0f} s, accel '
               f'{os.environ.get("ALOPEX_VM_ACCEL", "tcg")}; the guest began its scenarios '
               f'{float(booted) if booted else -1:.0f} s after boot')
        for name, _ in scenarios:
            took = self.scenario(name).seconds('guest')
            h.diag(f'{name}: {took:.0f} s in the guest' if took is not None else f'{name}: did not run')

    def scenario(self, name):
        return Scenario(self, name)

    def console_tail(self, n=3000):
        return open(self.console, errors='replace').read()[-n:]

    def check_finished(self):
        self._h.check(os.path.exists(os.path.join(self.results, 'finished')),
                      f'the guest did not finish; console:\n{self.console_tail()}')


class Scenario:
    """What one scenario's guest.sh wrote in its results directory."""

    def __init__(self, run, name):
        self._run, self.name = run, name
        self.dir = os.path.join(run.results, name)

    def result(self, file):
        """The file the guest wrote to /run/results/<scenario>/<file>, or None."""
        path = os.path.join(self.dir, file)
        return open(path, errors='replace').read() if os.path.exists(path) else None

    def seconds(self, name):
        """How long `run NAME` (or 'guest', the whole guest.sh) took in the guest, or None."""
        took = self.result(f'{name}.time')
        if not took:
            return None
        t0, t1 = (float(x) for x in took.split())
        return t1 - t0

    def check_finished(self):
        """The guest ran this scenario's guest.sh to its end (exit status 0)."""
        h = self._run._h
        rc = self.result('guest.rc')
        h.check(rc is not None, f'{self.name} did not run in the VM; console:\n{self._run.console_tail()}')
        h.check_eq(rc.strip(), '0', f'{self.name}/guest.sh in the VM:\n{(self.result("guest.log") or "")[-3000:]}')

    def check_run(self, name):
        """What the scenario ran as `run NAME ...` printed, after checking it exited 0."""
        h = self._run._h
        rc = self.result(f'{name}.rc')
        out = self.result(f'{name}.out') or ''
        h.check(rc is not None, f'{self.name}: {name} did not run in the VM; console:\n{self._run.console_tail()}')
        h.check_eq(rc.strip(), '0', f'{self.name}: {name} in the VM:\n{out[-6000:]}')
        h.diag(f'{name}: {self.seconds(name):.0f} s in the guest')
        return out
