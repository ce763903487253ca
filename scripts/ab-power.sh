#!/usr/bin/env bash
# Measures the power of `ab` on this machine, per mode and interference (issue: a gate that still sees a
# real regression on a busy runner). For each condition it starts the interference itself (none, a steady
# CPU-bound thread, one that spins and rests every few seconds, a memory-bandwidth copier), records the
# load, and runs in each mode one A/A run of PAIRS pairs (both sides one frozen build of HEAD) and the
# real seeded runs of CONFIRM (slow-down fractions, at the gate's default 10 pairs and --threshold
# THRESHOLD; by default the goals' cases: 5 % on a quiet machine, 10 % under interference). dist/scripts/ab-power.js then turns the A/A ratios into power by resampling.
#
#   [MODES="interleaved duet"] [CONDITIONS="quiet cpu intermittent memory"] [PAIRS=20] [CONFIRM="0.10"]
#   [AA=1 (0: seeded runs only)] [CONFIRM_PAIRS=10] [CONFIRM_RUNS=1] [THRESHOLD=2] [THRESHOLD_P90=$THRESHOLD] scripts/ab-power.sh [out-dir]
# PAIRS and CONFIRM_PAIRS take what `ab --processes` takes (`20,onnxruntime=60`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-reports/ab-power}" && cd "${1:-reports/ab-power}" && pwd)
export MOVINET_DATA_DIR=${MOVINET_DATA_DIR:-$(cd .. && pwd)/shared}
threshold=${THRESHOLD:-2}
threshold_p90=${THRESHOLD_P90:-$threshold}

work=$(mktemp -d)
load_pid=
stop_load() { if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; load_pid=; fi; }
cleanup() { stop_load; git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
git worktree add --detach --quiet "$work/base" HEAD
(cd "$work/base" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && npx tsc -p tsconfig.json)
cli="$work/base/dist/src/cli/main.js"

loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ','; }
meta() { # mode condition seconds load-before [effect exit]
  local extra=""; [ $# -gt 4 ] && extra=", \"effect\": $5, \"exit\": $6"
  printf '{"mode": "%s", "condition": "%s", "seconds": %s, "loadBefore": [%s], "loadAfter": [%s]%s}\n' \
    "$1" "$2" "$3" "$4" "$(loadavg)" "$extra"
}

for condition in ${CONDITIONS:-quiet cpu intermittent memory}; do
  if [ "$condition" != quiet ]; then
    node "$work/base/dist/scripts/interference.js" "$condition" & load_pid=$!
    sleep 5
  fi
  for mode in ${MODES:-interleaved duet}; do
    if [ "${AA:-1}" = 1 ]; then
      dir="$out/$mode-$condition"; rm -rf "$dir"; mkdir -p "$dir"
      before=$(loadavg); start=$(date +%s)
      node "$cli" ab --baseline "$work/base" --mode "$mode" --processes "${PAIRS:-20}" --report-only --json \
        --out-dir "$dir" > "$dir/comparison.stdout.json"
      meta "$mode" "$condition" $(( $(date +%s) - start )) "$before" > "$dir/meta.json"
      echo "ab-power: $mode $condition A/A, ${PAIRS:-20} pairs: $(( $(date +%s) - start )) s" >&2
    fi
    effects=${CONFIRM:-$([ "$condition" = quiet ] && echo 0.05 || echo 0.10)}
    for effect in $effects; do
      for run in $(seq 1 "${CONFIRM_RUNS:-1}"); do
        dir="$out/confirm-$mode-$condition-$effect-$run"; rm -rf "$dir"; mkdir -p "$dir"
        before=$(loadavg); start=$(date +%s); code=0
        node "$cli" ab --baseline "$work/base" --mode "$mode" --processes "${CONFIRM_PAIRS:-10}" \
          --threshold "p50=$threshold,p90=$threshold_p90" --self-test-slowdown "$effect" \
          --json --out-dir "$dir" > /dev/null || code=$?
        meta "$mode" "$condition" $(( $(date +%s) - start )) "$before" "$effect" "$code" > "$dir/meta.json"
        echo "ab-power: $mode $condition +$effect run $run: exit $code in $(( $(date +%s) - start )) s" >&2
      done
    done
  done
  stop_load
done
node "$work/base/dist/scripts/ab-power.js" "$out" --threshold "$threshold" --threshold-p90 "$threshold_p90" | tee "$out/power.md"
