#!/usr/bin/env bash
# Opt-in, not part of scripts/test.sh: the kernel target against a real wireguard.ko. This
# machine's own kernel has no WireGuard and no usable KVM, so a Debian kernel that ships
# wireguard.ko boots under qemu's software emulation (virtme-ng, over the host's filesystem),
# brings the local testbed up inside the VM and runs experiments/kernel-vm.yaml: provisioning,
# threaded NAPI written and read back, a 2 s traffic run per point, teardown and residue check.
# Throughput under emulation means nothing and is labelled so. Results: results/kernel-vm-*/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/as-root.sh
scripts/install-deps.sh

export DEBIAN_FRONTEND=noninteractive
kernel_with_wireguard() {
  for image in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
    version=${image#/boot/vmlinuz-}
    if ls /lib/modules/"$version"/kernel/drivers/net/wireguard/wireguard.ko* >/dev/null 2>&1; then echo "$image"; return; fi
  done
}
if [ -z "$(kernel_with_wireguard)" ]; then apt-get install -y -qq linux-image-amd64 >/dev/null; fi
for package in qemu-system-x86 busybox-static; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || apt-get install -y -qq --no-install-recommends "$package" >/dev/null
done
command -v vng >/dev/null || python3 -m pip install -q virtme-ng
kernel=$(kernel_with_wireguard)
[ -n "$kernel" ] || { echo "no kernel with wireguard.ko found in /boot" >&2; exit 1; }

swift build --product wgbench
mkdir -p results
echo "booting $kernel under software emulation (about 30 s before anything runs)" >&2
vng --run "$kernel" --disable-kvm --cpus 2 --memory 2G --user root --rwdir "$PWD/results" \
    --exec "$PWD/scripts/kernel-vm-inner.sh"
