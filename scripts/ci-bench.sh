#!/usr/bin/env bash
# The latency gate CI runs: build the base commit beside this checkout, run `movinet-bench ab` against
# it, render summary.html, and write the markdown verdict to $GITHUB_STEP_SUMMARY when there is one.
# Exits 1 on a regression (0 with --report-only), or when the run left no verdict on every requested
# backend (comparison.json, summary.html); 77 when the base revision cannot be had, so the gate did not
# run (a caller must not count that as passed). The mode and sizes are ab's defaults (AB_DEFAULTS in
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

have_base() { git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; }
# A shallow clone may lack the base: fetch more history from its remote first (this fails offline).
if ! have_base && [ "$(git rev-parse --is-shallow-repository)" = true ]; then
  echo "ci-bench: base revision '$base' is not in this shallow clone; fetching more history" >&2
  git fetch --quiet --deepen=100 >&2 || echo "ci-bench: git fetch --deepen failed" >&2
fi
if ! have_base; then
  echo "ci-bench: base revision '$base' is not in this clone (shallow clone, or the first commit): not run" >&2
  exit 77
fi

work=$(mktemp -d)
# shellcheck disable=SC2317 # called by the EXIT trap
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
# The run must have judged every requested backend: a row per backend in comparison.json, none of them
# missing or new (a pair that did not run on one side), and the page rendered. --report-only hides a
# regression, never a run that did not happen.
requested() { # OPTION DEFAULT ARGS...: the value of an ab option among the extra arguments, else DEFAULT
  local want=$1 value=$2 prev=
  shift 2
  for a in "$@"; do
    [ "$prev" = "$want" ] && value=$a
    case "$a" in "$want"=*) value=${a#*=} ;; esac
    prev=$a
  done
  echo "$value"
}
default_backends=$(node -e 'import("./dist/src/backends/index.js").then((m) => console.log(m.DEFAULT_BACKENDS.join(",")))')
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
if ! node -e '
  const fs = require("fs");
  const fail = (why) => { console.error(`ci-bench: ${why}`); process.exit(1); };
  const [dir, backendList, modelList] = process.argv.slice(1);
  const [backends, models] = [backendList.split(","), modelList.split(",")];
  const file = `${dir}/comparison.json`;
  if (!fs.existsSync(file)) fail(`${file} was not written`);
  if (!fs.existsSync(`${dir}/summary.html`)) fail(`${dir}/summary.html was not written`);
  const rows = JSON.parse(fs.readFileSync(file, "utf8")).rows;
  const judged = ["regression", "improvement", "unchanged", "inconclusive"];
  for (const backend of backends) {
    const mine = rows.filter((r) => r.backend === backend);
    const judgedModels = new Set(mine.map((r) => r.model));
    if (judgedModels.size !== models.length) fail(`${backend}: rows for ${judgedModels.size} of ${models.length} model(s)`);
    const bad = mine.filter((r) => !judged.includes(r.verdict));
    if (bad.length) fail(`${backend}: ${bad.map((r) => `${r.model} ${r.metric} ${r.verdict}`).join(", ")}`);
  }
  const stray = rows.filter((r) => !backends.includes(r.backend));
  if (stray.length) fail(`rows of backends not requested: ${stray.map((r) => r.backend).join(", ")}`);
  console.error(`ci-bench: ${rows.length} comparison rows, every one judged, over ${backendList}`);
' "$out_dir" "$(requested --backends "$default_backends" "$@")" "$(requested --models a0 "$@")"; then
  echo "ci-bench: the run did not judge every requested backend" >&2
  [ "$status" -ne 0 ] || status=1
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$out_dir/comparison.md" ]; then
  { echo "### movinet-bench A/B against $(git rev-parse --short "$base")"; cat "$out_dir/comparison.md"; } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
