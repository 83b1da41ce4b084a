#!/usr/bin/env bash
# Runs inside the VM started by scripts/kernel-vm-test.sh (root filesystem = the host's, read-only
# but for /run, /tmp and results/). Exits non-zero when the kernel target misbehaved.
set -euo pipefail
cd "$(dirname "$0")/.."
wgbench=.build/debug/wgbench
uname -r
modprobe wireguard
# virtme's guest shows root's password as locked ('!'), which sshd refuses for key logins without
# PAM; mark it "no password" ('*') in this VM's view only (a bind mount in the guest, host untouched).
if grep -q '^root:!' /etc/shadow; then
  sed 's/^root:!*/root:*/' /etc/shadow > /run/shadow.vm && mount --bind /run/shadow.vm /etc/shadow
fi
# The local testbed, with time limits for software emulation (a login shell alone takes seconds).
testbed=/run/local-vm.yaml
sed -e 's/^  connect_timeout: .*/  connect_timeout: 180s/' -e 's/^  command_timeout: .*/  command_timeout: 600s/' testbeds/local.yaml > "$testbed"
out="results/kernel-vm-$(date -u +%Y%m%dT%H%M%SZ)"
trap '$wgbench testbed down --testbed "$testbed" >/dev/null 2>&1 || true' EXIT
$wgbench testbed up --testbed "$testbed"
$wgbench testbed check --testbed "$testbed" || true   # kernel wg must show as loaded; veth has no ntuple
$wgbench run experiments/kernel-vm.yaml --testbed "$testbed" --out "$out"
$wgbench report "$out" >/dev/null

# Every repetition ran on the real module, and threaded NAPI reads back as it was written.
ok=$(grep -l '"status" : "ok"' "$out"/points/*/*/rep-1/result.json | wc -l)
[ "$ok" -eq 4 ] || { echo "FAIL: $ok of 4 repetitions succeeded" >&2; exit 1; }
grep -q '"gw2:wgb2-1:threaded" : "1"' "$out"/points/vanilla-thr/tunnels-2/rep-1/result.json \
  || { echo "FAIL: threaded NAPI did not read back as 1" >&2; exit 1; }
grep -q '"gw2:wgb2-2:threaded" : "0"' "$out"/points/vanilla/tunnels-2/rep-1/result.json \
  || { echo "FAIL: threaded NAPI did not read back as 0" >&2; exit 1; }
echo "kernel target OK on $(uname -r): provisioning, threaded NAPI read-back, teardown (throughput under emulation means nothing)"
