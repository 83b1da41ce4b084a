#!/usr/bin/env bash
# The nightly performance job: run an experiment, write its report, compare it with a stored
# baseline run, and fail when a point regressed significantly beyond the threshold (exit 1) or the
# run itself did not measure every repetition (its own exit status).
#
#   scripts/nightly-perf.sh <experiment.yaml> <baseline-run-dir> [testbed.yaml] [threshold]
#
# The new run and its report stay in results/nightly-<date>/ for the CI to keep as an artifact.
# On the local testbed (the default) the testbed is brought up and always taken down again.
set -euo pipefail
cd "$(dirname "$0")/.."
experiment=${1:?experiment file}
baseline=${2:?baseline result directory}
testbed=${3:-testbeds/local.yaml}
threshold=${4:-5%}
out="results/nightly-$(date -u +%Y%m%dT%H%M%SZ)"

swift build -c release --product wgbench
wgbench=.build/release/wgbench
if grep -q '^local:' "$testbed"; then
  trap '$wgbench testbed down "$testbed"' EXIT
  $wgbench testbed up "$testbed"
fi
# The run's status (1: repetitions failed, 3: residue left, 4: testbed busy) fails the job too,
# after the report and the comparison of what was measured.
status=0
$wgbench run "$experiment" --testbed "$testbed" --out "$out" || status=$?
[ -f "$out/run.json" ] || exit "$status"
$wgbench report "$out"
$wgbench compare "$baseline" "$out" --threshold "$threshold" | tee "$out/comparison.txt" || { [ "$status" -ne 0 ] || status=1; }
exit "$status"
