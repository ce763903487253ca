#!/usr/bin/env bash
# Usage: submit.sh <shards> <out-dir> -- <accuracy arguments>
#   e.g. submit.sh 64 runs/k600-a0 -- --dataset /data/k600/val.csv --models a0 --backends tflite-native-xnnpack
# Submits a job array of <shards> tasks (one core each) and a merge job that waits for all of them
# (--dependency=afterok). Prints "<array job id> <merge job id>". Logs: ./logs/.
# MOVINET_BENCH overrides the command (default: movinet-bench on PATH); extra sbatch options go in
# SBATCH_* variables (e.g. SBATCH_PARTITION).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shards="${1:?shard count}"
out="${2:?output folder}"
shift 2
[ "${1:-}" = "--" ] && shift
[ "$shards" -ge 1 ] || { echo "submit.sh: <shards> must be at least 1" >&2; exit 2; }
mkdir -p "$out" logs
export MOVINET_OUT_DIR="$(cd "$out" && pwd)"
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" "$here/accuracy-array.sbatch" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency="afterok:${array}" "$here/merge.sbatch" "$MOVINET_OUT_DIR")
echo "$array ${merge%%;*}"
