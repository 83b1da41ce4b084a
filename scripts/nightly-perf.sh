#!/usr/bin/env bash
# The nightly performance job: run an experiment into a directory that keeps every night's run,
# write its report, compare it with the previous night's run (or with BASELINE=<run-dir> when
# set), regenerate the trend page of all nights, and fail (exit 1) when a point regressed
# significantly beyond the threshold (exit 1) or the run itself did not measure every repetition
# (its own exit status).
#
#   scripts/nightly-perf.sh <experiment.yaml> [runs-dir] [testbed.yaml] [threshold]
#
# runs-dir defaults to results/nightly: each night adds <runs-dir>/<date>/ (run, report,
# comparison.txt), and <runs-dir>/history.html and history.csv show every point over the nights,
# regressions and improvements marked and linked to their run (wgbench history).
# On the local testbed (the default) the testbed is brought up and always taken down again.
set -euo pipefail
cd "$(dirname "$0")/.."
experiment=${1:?experiment file}
runs=${2:-results/nightly}
testbed=${3:-testbeds/local.yaml}
threshold=${4:-5%}
mkdir -p "$runs"
previous=${BASELINE:-$(ls -d "$runs"/*/ 2>/dev/null | sort | tail -n 1)}
out="$runs/$(date -u +%Y%m%dT%H%M%SZ)"

swift build -c release --product wgbench
wgbench=.build/release/wgbench
export WGBENCH_COMMIT=${WGBENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || true)}
if grep -q '^local:' "$testbed"; then
  trap '$wgbench testbed down --testbed "$testbed"' EXIT
  $wgbench testbed up --testbed "$testbed"
fi
# The run's status (1: repetitions failed, 3: residue left, 4: testbed busy) fails the job too,
# after the report and the comparison of what was measured.
status=0
$wgbench run "$experiment" --testbed "$testbed" --out "$out" || status=$?
[ -f "$out/run.json" ] || exit "$status"
$wgbench report "$out"
$wgbench history "$runs" --threshold "$threshold"
if [ -n "$previous" ]; then
  $wgbench compare "${previous%/}" "$out" --threshold "$threshold" | tee "$out/comparison.txt" || { [ "$status" -ne 0 ] || status=1; }
else
  echo "first night in $runs: nothing to compare with yet"
fi
exit "$status"
