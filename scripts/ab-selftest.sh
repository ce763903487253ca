#!/usr/bin/env bash
# Checks that `ab` neither cries wolf nor misses a real slow-down, on this machine:
# N A/A runs (the same build on both sides) and N A/B runs with the candidate slowed by a known
# fraction (the calibration spin, MOVINET_SELFTEST_SLOWDOWN, used by nothing else). Prints one
# line per run and the counts; the figures go in RESULTS.md.
#
#   [MODES="aa ab"] scripts/ab-selftest.sh [runs=10] [slowdown=0.10] [-- extra ab options]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
slowdown=${2:-0.10}
shift $(( $# > 2 ? 2 : $# )); [ "${1:-}" = "--" ] && shift
export MOVINET_DATA_DIR=${MOVINET_DATA_DIR:-$(cd .. && pwd)/shared}

# Both sides run from one frozen build of HEAD (in a worktree), so edits to this checkout during the
# runs cannot change what is measured.
work=$(mktemp -d)
cleanup() { git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
git worktree add --detach --quiet "$work/base" HEAD
(cd "$work/base" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

flagged_aa=0; caught_ab=0
for mode in ${MODES:-aa ab}; do
  for i in $(seq 1 "$runs"); do
    set +e
    extra=(); [ "$mode" = ab ] && extra=(--self-test-slowdown "$slowdown")
    start=$(date +%s)
    code=0
    node "$work/base/dist/src/cli/main.js" ab --baseline "$work/base" --out-dir "$work/$mode-$i" --json "${extra[@]}" "$@" > "$work/$mode-$i.json" || code=$?
    verdicts=$([ -s "$work/$mode-$i.json" ] && node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(c.rows.map(r=>`${r.backend} ${r.metric.split(" ")[0]} ${(r.change*100).toFixed(1)}% p=${r.pValue===null?"-":r.pValue.toPrecision(2)} ${r.verdict}`).join("; "))' "$work/$mode-$i.json" || echo "no comparison (the run failed)")
    echo "$mode run $i: exit $code in $(( $(date +%s) - start )) s: $verdicts"
    set -e
    if [ "$mode" = aa ] && [ "$code" -ne 0 ]; then flagged_aa=$((flagged_aa + 1)); fi
    if [ "$mode" = ab ] && [ "$code" -eq 1 ]; then caught_ab=$((caught_ab + 1)); fi
  done
done
echo "A/A: ${flagged_aa} of ${runs} runs exited 1 (false alarms); A/B (${slowdown} slower): ${caught_ab} of ${runs} caught"
