/**
 * Checks of the architecture models on real frames (not a benchmark): build
 * time and determinism, structure against the official A0, the fraction of
 * int8 activations at the clamp (read through the int8-exact ONNX
 * conversion, which exposes any tensor), NaN/Inf in the float conversion, and
 * the float simulator the calibration used against that conversion. The same
 * clamp figure is given for the official A0 as a reference. Usage, after
 * `npm run build`:
 *   node dist/scripts/arch-check.js [--frames 20] [--json]
 * test/arch.test.ts runs the same helpers on fewer frames.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { convertToOnnx, onnxOutputName, type Precision } from '../src/convert/tflite-to-onnx.js';
import { ARCH_CALIBRATION } from '../src/models/arch/calibration.js';
import { ARCH_IDS, archResolved, buildArchModel, ensureArchModel, type ArchId } from '../src/models/arch/index.js';
import { archNetwork } from '../src/models/arch/network.js';
import { simulateArch } from '../src/models/arch/simulate.js';
import { graphMacs } from '../src/models/inspect.js';
import { streamSignature, type StreamSignature } from '../src/models/signature.js';
import { elementCount, parseTflite, type TfliteModel } from '../src/models/tflite.js';
import { disableOrtTelemetry } from '../src/util/ort-telemetry.js';
import { dataDir } from '../src/util/paths.js';
import { sha256Bytes } from '../src/util/sha256.js';
import { decodeFrames } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';

/** Clips the calibration did not see (scripts/calibrate-arch.ts uses five others). */
export const HELD_OUT_CLIPS = [
  'arm_wrestling__mmaction2-demo.mp4',
  'skateboarding__mmskeleton-skateboarding.mp4',
  'windsurfing__video-segmentation-surf.mp4',
];

export const OFFICIAL_A0 = path.join(dataDir(), 'models', 'movinet_a0_stream_k600_int8.tflite');

export async function decodeClips(files: string[], size: number, frames: number): Promise<Float32Array[][]> {
  return Promise.all(
    files.map((f) =>
      collect(
        decodeFrames(path.isAbsolute(f) ? f : path.join(dataDir(), 'datasets', 'kinetics-sample', f), {
          size,
          fps: 5,
          resize: 'crop',
          maxFrames: frames,
        }),
      ),
    ),
  );
}

/** Ops whose int8 output is computed (not moved): where a value can land on the clamp. */
const COMPUTING = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'MUL', 'AVERAGE_POOL_2D', 'SUM', 'QUANTIZE']);

export interface ClampStats {
  tensors: number;
  values: number;
  /** Values at code 127: the top of the range (ReLU6's 6 included). */
  upper: number;
  /** Values at code -128 where that is below the real zero (a ReLU floor at 0 is exact, not a clamp). */
  lower: number;
  fraction: number;
  worst: { tensor: string; fraction: number };
}

async function session(graph: TfliteModel, sig: StreamSignature, precision: Precision, probes: number[] = []) {
  const { bytes } = convertToOnnx(graph, sig, precision, probes);
  // The library reads the switch at its first session; test/arch.test.ts reaches this without the CLI.
  disableOrtTelemetry();
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: precision === 'int8-exact' ? 'disabled' : 'all',
    logSeverityLevel: 3,
  });
}

/** Streams each clip from zero states; `visit` sees every frame's outputs. */
async function stream(
  s: ort.InferenceSession,
  sig: StreamSignature,
  clips: Float32Array[][],
  visit: (out: ort.InferenceSession.ReturnType) => void,
): Promise<void> {
  for (const clip of clips) {
    let states: Record<string, ort.Tensor> = Object.fromEntries(
      sig.states.map((st) => {
        const n = elementCount(st.input.shape);
        return [
          st.name,
          st.input.dtype === 'int32'
            ? new ort.Tensor('int32', new Int32Array(n), st.input.shape)
            : new ort.Tensor('float32', new Float32Array(n), st.input.shape),
        ];
      }),
    );
    for (const frame of clip) {
      const out = await s.run({ ...states, [sig.image.name]: new ort.Tensor('float32', frame, sig.image.shape) });
      visit(out);
      states = Object.fromEntries(sig.states.map((st) => [st.name, out[onnxOutputName(st.name, true)]!]));
    }
  }
}

/** The int8 codes of every computed activation, read through the int8-exact conversion's probes. */
export async function clampStats(graph: TfliteModel, clips: Float32Array[][]): Promise<ClampStats> {
  const sig = streamSignature(graph);
  const sg = graph.subgraphs[0]!;
  // A graph input's QUANTIZE is not counted: the image's 1.0 is exact at code 127, and a stream buffer's
  // values were counted when the layer that made them ran.
  const probes = sg.operators
    .filter((op) => COMPUTING.has(op.opcode) && !(op.opcode === 'QUANTIZE' && sg.inputs.includes(op.inputs[0]!)))
    .map((op) => op.outputs[0]!)
    .filter((i) => sg.tensors[i]!.type === 'int8' && sg.tensors[i]!.quantization);
  const s = await session(graph, sig, 'int8-exact', probes);
  const per = new Map<number, { n: number; clamped: number; upper: number; lower: number }>();
  await stream(s, sig, clips, (out) => {
    for (const i of probes) {
      const t = sg.tensors[i]!;
      const { scale, zeroPoint } = t.quantization!;
      const [sc, zp] = [scale[0]!, zeroPoint[0]!];
      const data = out[`probe_${i}`]!.data as Float32Array;
      const acc = per.get(i) ?? { n: 0, clamped: 0, upper: 0, lower: 0 };
      for (let k = 0; k < data.length; k++) {
        const code = Math.round(data[k]! / sc) + zp;
        if (code >= 127) acc.upper++;
        else if (code <= -128 && zp > -128) acc.lower++;
      }
      acc.n += data.length;
      per.set(i, acc);
    }
  });
  await s.release();
  let [values, upper, lower] = [0, 0, 0];
  let worst = { tensor: '', fraction: 0 };
  for (const [i, a] of per) {
    values += a.n;
    upper += a.upper;
    lower += a.lower;
    const fraction = (a.upper + a.lower) / a.n;
    if (fraction > worst.fraction) worst = { tensor: sg.tensors[i]!.name, fraction };
  }
  return { tensors: per.size, values, upper, lower, fraction: (upper + lower) / values, worst };
}

export interface FloatRun {
  logits: Float32Array[][];
  /** NaN or infinite values among the logits and the float states, over every frame. */
  nonFinite: number;
}

/** The fp32 conversion (every weight dequantized) over real frames. */
export async function floatRun(graph: TfliteModel, clips: Float32Array[][]): Promise<FloatRun> {
  const sig = streamSignature(graph);
  const s = await session(graph, sig, 'float');
  const logits: Float32Array[][] = clips.map(() => []);
  let nonFinite = 0;
  let clip = 0;
  let frame = 0;
  await stream(s, sig, clips, (out) => {
    const l = out[onnxOutputName(sig.logits.name, false)]!.data as Float32Array;
    logits[clip]!.push(l.slice());
    for (const t of [l, ...sig.states.map((st) => out[onnxOutputName(st.name, true)]!.data)])
      if (t instanceof Float32Array) for (const v of t) if (!Number.isFinite(v)) nonFinite++;
    if (++frame === clips[clip]!.length) [clip, frame] = [clip + 1, 0];
  });
  await s.release();
  return { logits, nonFinite };
}

/** Largest logit difference between two runs, relative to the largest logit magnitude. */
export function relativeDiff(a: Float32Array[][], b: Float32Array[][]): number {
  let diff = 0;
  let peak = 0;
  a.forEach((clip, c) =>
    clip.forEach((l, f) =>
      l.forEach((v, k) => {
        diff = Math.max(diff, Math.abs(v - b[c]![f]![k]!));
        peak = Math.max(peak, Math.abs(v));
      }),
    ),
  );
  return diff / peak;
}

interface Row {
  model: string;
  bytes: number;
  sha256: string;
  operators: number;
  macsPerFrame: number;
  buildMs?: { median: number; max: number; deterministic: boolean };
  clamp: ClampStats;
  floatNonFinite: number;
  simulatorVsFloat?: number;
}

async function check(label: string, bytes: Uint8Array, clips: Float32Array[][], id?: ArchId): Promise<Row> {
  const graph = parseTflite(bytes, label);
  const clamp = await clampStats(graph, clips);
  const float = await floatRun(graph, clips);
  const row: Row = {
    model: label,
    bytes: bytes.length,
    sha256: sha256Bytes(bytes),
    operators: graph.subgraphs[0]!.operators.length,
    macsPerFrame: graphMacs(graph),
    clamp,
    floatNonFinite: float.nonFinite,
  };
  if (id) {
    const sim = simulateArch(archNetwork(id), clips, ARCH_CALIBRATION[id]!.gains);
    row.simulatorVsFloat = relativeDiff(float.logits, sim.logits);
    const times: number[] = [];
    const hashes = new Set<string>();
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      hashes.add(sha256Bytes(buildArchModel(id)));
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    row.buildMs = { median: times[2]!, max: times[4]!, deterministic: hashes.size === 1 && hashes.has(row.sha256) };
  }
  return row;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { frames: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } },
  });
  const frames = Number(values.frames);
  const rows: Row[] = [];
  if (fs.existsSync(OFFICIAL_A0)) {
    const clips = await decodeClips(HELD_OUT_CLIPS, 172, frames);
    rows.push(await check('a0 (official)', new Uint8Array(fs.readFileSync(OFFICIAL_A0)), clips));
  }
  for (const id of ARCH_IDS) {
    const model = archResolved(ensureArchModel(id, { cache: false }));
    const clips = await decodeClips(HELD_OUT_CLIPS, model.signature.height, frames);
    rows.push(await check(id, model.bytes, clips, id));
  }
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const a0 = rows.find((r) => r.model === 'a0-arch')!;
  for (const r of rows) {
    const c = r.clamp;
    console.log(
      [
        r.model.padEnd(14),
        `${(r.bytes / 2 ** 20).toFixed(2)} MiB`,
        `${r.operators} ops`,
        `${(r.macsPerFrame / 1e6).toFixed(1)} M MACs (x${(r.macsPerFrame / a0.macsPerFrame).toFixed(3)} a0-arch)`,
        `clamp ${(c.fraction * 100).toFixed(3)} % of ${c.values} (top ${c.upper}, bottom ${c.lower}; worst ${(c.worst.fraction * 100).toFixed(2)} % ${c.worst.tensor.split(';')[0]})`,
        `float non-finite ${r.floatNonFinite}`,
        r.simulatorVsFloat === undefined ? '' : `simulator vs float ${(r.simulatorVsFloat * 100).toFixed(3)} %`,
        r.buildMs
          ? `build ${r.buildMs.median.toFixed(0)} ms (max ${r.buildMs.max.toFixed(0)}), deterministic ${r.buildMs.deterministic}`
          : '',
        r.sha256.slice(0, 16),
      ]
        .filter(Boolean)
        .join(' | '),
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
