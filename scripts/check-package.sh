#!/usr/bin/env bash
# The package as users get it: `npm pack`, then the README's installed-use lines, from a folder that is not
# the checkout, with only the data folder given. Fails on a file in the tarball that is not needed at run
# time, an install warning the README does not explain, a report written anywhere but ./reports of the
# working directory, or a command that does not run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${MOVINET_DATA_DIR:-$(cd "$root/.." && pwd)/shared}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "check-package: $*" >&2; exit 1; }
t0=$(date +%s)

cd "$root"
npm run -s build
tgz="$(npm pack --silent --pack-destination "$work" | tail -1)"
tar tzf "$work/$tgz" | sed 's#^package/##' | sort > "$work/files"
echo "check-package: $tgz, $(wc -l < "$work/files") files, $(du -k "$work/$tgz" | cut -f1) kB"
# Run-time files only: built JavaScript and declarations of src/, manifests, suites, README, LICENSE.
if grep -vE '^(dist/src/.*\.(js|d\.ts)|models/(manifest|sources)\.json|datasets/[^/]+/manifest\.json|suites/[^/]+\.json|README\.md|LICENSE|package\.json)$' "$work/files"; then
  fail "files above do not belong in the package"
fi
for needed in dist/src/cli/main.js dist/src/api/index.d.ts models/manifest.json models/sources.json datasets/kinetics-sample/manifest.json suites/smoke.json LICENSE; do
  grep -qx "$needed" "$work/files" || fail "the package lacks $needed"
done
grep -q '"private"' <(tar xzf "$work/$tgz" -O package/package.json) && fail "package.json says private"

# No environment variable; the README's flag. Warnings: only npm's own notices about the flag's effect.
npm install -g --ignore-scripts --no-audit --no-fund --prefix "$work/prefix" "$work/$tgz" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "npm install -g failed"; }
if grep -iE 'warn' "$work/install.log" | grep -viE 'deprecated'; then
  fail "install warnings the README does not explain (above)"
fi
bin="$work/prefix/bin/movinet-bench"
[ -x "$bin" ] || fail "no movinet-bench on the prefix's PATH"

mkdir -p "$work/cwd"
cd "$work/cwd"
export MOVINET_DATA_DIR="$data" MOVINET_CACHE_DIR="$work/cache"
"$bin" --version | tee "$work/version" | head -1
grep -q '^onnxruntime-node 1\.30\.0$' "$work/version" || fail "--version does not show the pinned onnxruntime-node"
"$bin" models > "$work/models.txt" || fail "models failed"
grep -q 'a0-int8' "$work/models.txt" || fail "models does not list a0-int8"
"$bin" bench --models a0 --backends tfjs-tflite,onnxruntime,tflite-native-xnnpack --frames 30 --warmup 5 --no-roofline > "$work/bench.txt" ||
  { cat "$work/bench.txt"; fail "bench failed"; }
report="$(ls reports/bench-*.json 2>/dev/null | head -1)"
[ -n "$report" ] || fail "no report in ./reports of the working directory"
[ -z "$(ls "$work/prefix/lib/node_modules/movinet-bench/reports" 2>/dev/null)" ] || fail "a report was written into the install folder"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const rows = r.results.map((x) => x.backend).sort().join(",");
  if (rows !== "onnxruntime,tfjs-tflite,tflite-native-xnnpack") throw new Error("rows: " + rows);
  if (r.environment.gitCommit !== null) throw new Error("an installed tool has no git commit");
  if (!/^\d+\.\d+\.\d+/.test(r.tool.version)) throw new Error("no package version");
' "$report" || fail "the report is not what the run should give"

# npx from the tarball, nothing installed globally.
rm -rf reports
npm exec --ignore-scripts --yes --package "$work/$tgz" -- movinet-bench bench --models a0 --backends tfjs-tflite --frames 30 --warmup 5 --no-roofline --json > "$work/npx.json" ||
  fail "npx bench failed"
ls reports/bench-*.json > /dev/null 2>&1 || fail "npx: no report in ./reports"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (r.results.map((x) => x.backend).join(",") !== "tfjs-tflite") throw new Error("npx rows: " + r.results.map((x) => x.backend));
' "$work/npx.json" || fail "npx bench --json did not print the report it should"

# README line 1 on a fresh machine: no data folder, an empty cache, the model from its listed sources. The
# sources are local stand-ins that answer as the real hosts do (scripts/source-hosts.ts); the installed
# package must ship the list they stand in for.
cmp -s "$work/prefix/lib/node_modules/movinet-bench/models/sources.json" "$root/models/sources.json" ||
  fail "the installed package's models/sources.json is not the checkout's"
mkdir -p "$work/fresh/data" "$work/fresh/cwd"
node "$root/dist/scripts/source-hosts.js" --data "$data" --sources "$work/fresh/sources.json" > "$work/fresh/port" &
hosts=$!
trap 'kill "$hosts" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/fresh/port" ] && break; sleep 0.1; done
[ -s "$work/fresh/port" ] || fail "the stand-in hosts did not start"
(cd "$work/fresh/cwd" && MOVINET_DATA_DIR="$work/fresh/data" MOVINET_CACHE_DIR="$work/fresh/cache" \
  MOVINET_SOURCES="$work/fresh/sources.json" NO_PROXY=127.0.0.1 "$bin" bench --models a0 --threads 1 > "$work/fresh/bench.txt" 2>&1) ||
  { cat "$work/fresh/bench.txt"; fail "the main job on a fresh machine failed"; }
grep -q 'fetched model a0-int8 from .*www\.kaggle\.com.* (1\.tflite of a tar\.gz archive) .*verified: sha256 and git blob' "$work/fresh/bench.txt" ||
  { cat "$work/fresh/bench.txt"; fail "the main job did not fetch A0 from the Kaggle stand-in and verify it"; }
ls "$work/fresh/cwd"/reports/bench-*.json > /dev/null 2>&1 || fail "fresh machine: no report in ./reports"
kill "$hosts"

echo "check-package: ok in $(($(date +%s) - t0)) s (pack, install -g, models, bench, npx bench, first run from the sources; report in ./reports)"
