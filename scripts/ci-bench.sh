#!/usr/bin/env bash
# The latency gate CI runs: build the base commit beside this checkout, run `movinet-bench ab` against
# it, render summary.html, and write the markdown verdict to $GITHUB_STEP_SUMMARY when there is one.
# Exits 1 on a regression (0 with --report-only). The mode and sizes are ab's defaults (AB_DEFAULTS in
# src/run/defaults.ts), the ones the power measurement in RESULTS.md ("ab power") favours. Options after
# -- override them.
#
#   scripts/ci-bench.sh [--base REV] [--report-only] [--out-dir DIR] [-- extra ab options]
set -euo pipefail
cd "$(dirname "$0")/.."

base=${BASE_REV:-HEAD~1}
report_only=()
out_dir=reports/ci-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift 2 ;;
    --report-only) report_only=(--report-only); shift ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "ci-bench: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Both builds read the same models and clips, wherever the base is checked out.
export MOVINET_DATA_DIR=${MOVINET_DATA_DIR:-$(cd .. && pwd)/shared}

if ! git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; then
  echo "ci-bench: base revision '$base' is not in this clone (shallow clone, or the first commit)" >&2
  [ ${#report_only[@]} -gt 0 ] && exit 0
  exit 2
fi

work=$(mktemp -d)
cleanup() { git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
git worktree add --detach --quiet "$work/base" "$base"
echo "ci-bench: building base $(git rev-parse --short "$base") in $work/base" >&2
# Type errors in an old commit must not stop its JavaScript from being built and measured.
(cd "$work/base" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && { npx tsc -p tsconfig.json >/dev/null || true; })
[ -f dist/src/cli/main.js ] || npm run -s build

mkdir -p "$out_dir"
status=0
node dist/src/cli/main.js ab --baseline "$work/base" --out-dir "$out_dir" ${report_only[@]+"${report_only[@]}"} "$@" || status=$?
if [ -f "$out_dir/candidate.json" ]; then
  node dist/src/cli/main.js report "$out_dir/candidate.json" --baseline "$out_dir/baseline.json" \
    --out "$out_dir/summary.html" >/dev/null
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out_dir/comparison.md" ]; then
  { echo "### movinet-bench A/B against $(git rev-parse --short "$base")"; cat "$out_dir/comparison.md"; } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
