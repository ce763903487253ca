#!/usr/bin/env bash
# Regenerates src/models/tflite-schema/tflite_generated.ts from tflite.fbs.
# The output is committed (as onnxruntime's js/ commits its schema code), so
# building and CI need no flatc; run this after editing tflite.fbs.
#
# flatc 2.0.8 is Debian's flatbuffers-compiler (apt-get install flatbuffers-compiler).
# Its --ts-flat-files output is one self-contained file that imports only the
# npm 'flatbuffers' runtime; the default output's extension-less relative
# imports do not resolve under NodeNext. Other flatc versions generate
# different code, so the version is pinned.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=src/models/tflite-schema
out=$dir/tflite_generated.ts
want='flatc version 2.0.8'

have=$(flatc --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "need '$want' (Debian: apt-get install flatbuffers-compiler), found '${have:-no flatc}'" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flatc --ts --ts-flat-files -o "$tmp" "$dir/tflite.fbs"

# Post-processing, so the file compiles under the repo's strict tsconfig
# (noUnusedParameters) without @ts-nocheck: flatc 2.0.8 declares union
# accessors as `name<T extends flatbuffers.Table>(obj:any):any|null` and never
# uses T. Dropping the unused type parameter changes no emitted JavaScript.
generic='<T extends flatbuffers.Table>(obj:any)'
n=$(grep -cF "$generic" "$tmp/tflite_generated.ts" || true)
sed -i "s/<T extends flatbuffers\.Table>(obj:any)/(obj:any)/" "$tmp/tflite_generated.ts"
if grep -qF "$generic" "$tmp/tflite_generated.ts" || [ "$n" -eq 0 ]; then
  echo "post-processing did not match flatc's output; check $0 against this flatc" >&2
  exit 1
fi

{
  echo "// GENERATED FILE, do not edit: scripts/gen-tflite-schema.sh from tflite.fbs"
  echo "// (flatc 2.0.8 --ts --ts-flat-files, unused union type parameters removed)."
  echo "// Lint and formatters skip this folder's *_generated.ts."
  echo "/* eslint-disable */"
  cat "$tmp/tflite_generated.ts"
} >"$out"
echo "wrote $out ($n union accessors post-processed)"
