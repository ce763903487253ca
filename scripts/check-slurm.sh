#!/usr/bin/env bash
# The Slurm recipe on a real single-node cluster (scripts/cluster/slurm-local.sh): the sample over 4
# shards as a job array, the merge job after it, the merged report against an unsharded run clip by
# clip; then a task killed part-way through its shard (when its journal holds two clips: no timing
# guess), merge naming the missing shard and its task, the task requeued with --resume, and the same
# merged result. Needs munge, slurmctld, slurmd and slurm-client (Debian packages; .ci/run installs them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
state="$work/slurm"
t0=$(date +%s)
fail() { echo "check-slurm: $*" >&2; exit 1; }
cleanup() {
  # Only this cluster's jobs (SLURM_CONF is set once it is up), and the daemons only once its jobs are gone.
  if [ -n "${SLURM_CONF:-}" ]; then
    scancel --user=root 2> /dev/null || true
    for _ in $(seq 100); do [ -z "$(squeue -h 2> /dev/null)" ] && break; sleep 0.2; done
  fi
  bash "$root/scripts/cluster/slurm-local.sh" stop "$state"
  rm -rf "$work"
}
trap cleanup EXIT

started="$(bash "$root/scripts/cluster/slurm-local.sh" start "$state")" || fail "the cluster did not start"
eval "$started"
echo "check-slurm: cluster up in $(($(date +%s) - t0)) s ($(sinfo -h -o '%N %c CPUs %t'))"
export MOVINET_BENCH="node $root/dist/src/cli/main.js"
export MOVINET_DATA_DIR="${MOVINET_DATA_DIR:-$(cd "$root/.." && pwd)/shared}"
export MOVINET_CACHE_DIR="$work/cache"
args="--subset kinetics-sample --models a0 --backends tfjs-tflite"
cd "$work"

# One job to end: its id leaves the queue.
wait_job() {
  for _ in $(seq 1800); do
    [ -z "$(squeue -h -j "$1" 2> /dev/null)" ] && return 0
    sleep 0.5
  done
  fail "job $1 did not end within 15 minutes"
}

# The same clips, unsharded, as the reference.
$MOVINET_BENCH accuracy $args --threads 1 --out whole.json > /dev/null

# Every clip of the subset's manifest, on the one backend, in both reports, each scored without error, and
# every clip's prediction and per-frame top-1 equal.
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
compare() { # merged.json whole.json
  node -e '
    const fs = require("fs");
    const [manifest, ...reports] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    const [a, b] = reports;
    const expected = manifest.clips.length;
    const clips = (r) => new Map(r.runs.flatMap((run) => run.clips.map((c) => [run.backend + " " + c.file, c])));
    const [x, y] = [clips(a), clips(b)];
    if (x.size !== expected || y.size !== expected) throw new Error(`clip count ${x.size} vs ${y.size}, not the ${expected} of the subset`);
    for (const [name, m] of [["merged", x], ["unsharded", y]]) {
      const failed = [...m].filter(([, c]) => c.status !== "ok").map(([k]) => k);
      if (failed.length) throw new Error(`${name}: not ok: ${failed.join(", ")}`);
    }
    for (const [k, c] of x) {
      const d = y.get(k);
      if (!d) throw new Error(`${k} missing`);
      const same = (f) => JSON.stringify(f(c)) === JSON.stringify(f(d));
      if (!same((q) => [q.status, q.frames, q.top1ByFrame, q.top5.map((p) => [p.index, p.prob])])) throw new Error(`${k} differs`);
    }
    console.log(`${x.size} clips equal, all ok`);
  ' "$root/datasets/kinetics-sample/manifest.json" "$1" "$2"
}

# 1. The recipe as it is: 4 shards, then the merge job.
read -r array merge < <(bash "$root/scripts/cluster/slurm/submit.sh" 4 run1 -- $args)
echo "check-slurm: submitted array $array, merge $merge"
wait_job "$array"
wait_job "$merge"
echo "check-slurm: array and merge done in $(($(date +%s) - t0)) s"
[ -f run1.merged.json ] || { tail -n 20 logs/*; fail "the merge job wrote no report"; }
msg=$(compare run1.merged.json whole.json) || fail "the merged run differs from the unsharded run"
echo "check-slurm: merged run equals the unsharded run: $msg"
for i in 0 1 2 3; do
  grep -qE "^shard $i of 4, job $array: Cpus_allowed_list:\s+[0-9]+$" logs/movinet-accuracy-"$array"_$i.log ||
    fail "task $i's log does not show it bound to one core"
done
grep -qE '"scheme": *"slurm-array"' run1/shard-2.json || fail "shard 2 does not record its Slurm origin"

# 2. A task killed part-way: when shard 1's journal holds two clips, SIGKILL it.
read -r array merge < <(bash "$root/scripts/cluster/slurm/submit.sh" 4 run2 -- $args)
journal=run2/shard-1.json.journal.jsonl
journaled() { if [ -f "$journal" ]; then echo $(($(wc -l < "$journal") - 1)); else echo 0; fi; }
for _ in $(seq 6000); do
  [ "$(journaled)" -ge 2 ] && break
  sleep 0.01
done
[ "$(journaled)" -ge 2 ] || { tail -n 20 logs/*; fail "shard 1 journaled $(journaled) clip(s) within 60 s, not 2: nothing to kill part-way"; }
scancel --signal=KILL "${array}_1"
wait_job "$array"
scancel "$merge" 2> /dev/null || true
[ ! -f run2/shard-1.json ] || fail "the killed task wrote its report anyway"
done_clips=$(journaled)
code=0
$MOVINET_BENCH reports merge run2 --out run2.partial.json 2> merge.err || code=$?
[ "$code" -eq 2 ] || { cat merge.err; fail "merge of a missing shard exited $code, not 2"; }
[ ! -f run2.partial.json ] || fail "merge wrote a report with a shard missing"
grep -q "missing shard 1 (slurm job $array, array task 1)" merge.err || { cat merge.err; fail "merge did not name the missing shard and its task"; }
echo "check-slurm: killed task 1 after $done_clips journaled clip(s); merge says: $(cat merge.err)"

# 3. Requeued with --resume (the batch script passes it): it continues from the journal.
scontrol requeue "${array}_1"
# Slurm holds a requeued job back a while before it may start again; here it may start at once.
scontrol update JobId="${array}_1" StartTime=now
for _ in $(seq 1800); do [ -f run2/shard-1.json ] && [ -z "$(squeue -h -j "${array}_1" 2> /dev/null)" ] && break; sleep 0.5; done
[ -f run2/shard-1.json ] || fail "the requeued task wrote no report"
resumed=$(grep -h "resumed:" logs/movinet-accuracy-"$array"_1.log) || fail "the requeued task did not resume from its journal"
echo "check-slurm: $resumed"
taken=none
if [[ "$resumed" =~ resumed:\ ([0-9]+)\ clip ]]; then taken=${BASH_REMATCH[1]}; fi
[ "$taken" = "$done_clips" ] || fail "the requeued task took $taken clip(s) from its journal, not the $done_clips journaled before the kill"
$MOVINET_BENCH reports merge run2 --out run2.merged.json > /dev/null
msg=$(compare run2.merged.json whole.json) || fail "the resumed and merged run differs from the unsharded run"
echo "check-slurm: resumed and merged run equals the unsharded run: $msg"
echo "check-slurm: ok in $(($(date +%s) - t0)) s"
