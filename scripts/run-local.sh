#!/usr/bin/env bash
# The main job on the embedded local testbed: installs what is missing, builds wgbench, brings
# the local testbed up, runs an experiment (experiments/smoke.yaml, or the file given), prints
# its summary, writes the HTML report, and always tears the testbed down again. Results go to results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/as-root.sh
scripts/install-deps.sh
swift build -c release --product wgbench
swift build -c release --product wireguard-swift
# The local testbed's hosts share this filesystem: the daemon on the PATH serves all of them.
install -m 755 .build/release/wireguard-swift /usr/local/bin/wireguard-swift
wgbench=.build/release/wgbench
testbed=testbeds/local.yaml

trap '$wgbench testbed down --testbed "$testbed"' EXIT
$wgbench testbed up --testbed "$testbed"
$wgbench testbed check --testbed "$testbed"
out="results/$(basename "${1:-experiments/smoke.yaml}" .yaml)-$(date -u +%Y%m%dT%H%M%SZ)"
# wgbench run exits 1 when repetitions failed (3: residue, 4: testbed busy): write the report of
# what was measured all the same, and end with the run's status.
status=0
$wgbench run "${1:-experiments/smoke.yaml}" --testbed "$testbed" --out "$out" || status=$?
if [ -f "$out/run.json" ]; then $wgbench report "$out"; fi
exit "$status"
