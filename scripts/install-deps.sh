#!/usr/bin/env bash
# Installs the Debian packages wgbench needs, only those missing. Needs root.
set -euo pipefail

packages=(iperf3 wireguard-tools wireguard-go openssh-server openssh-client ethtool iproute2
          iputils-ping kmod procps libssh2-1-dev libsodium-dev libssl-dev pkg-config chromium python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "wgbench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's openssh-server starts a system sshd where systemd runs; the testbed's sshds are our own.
command -v swift >/dev/null || { echo "wgbench: Swift 6.3 is needed (https://swift.org/install); 'swift' is not on PATH" >&2; exit 1; }
