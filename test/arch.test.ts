import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { getBackend } from '../src/backends/index.js';
import { ARCH_CALIBRATION } from '../src/models/arch/calibration.js';
import {
  ARCH_IDS,
  ARCH_NOTE,
  archCachePath,
  archModelInfo,
  archResolved,
  buildArchModel,
  ensureArchModel,
  type ArchId,
} from '../src/models/arch/index.js';
import { archNetwork } from '../src/models/arch/network.js';
import { simulateArch } from '../src/models/arch/simulate.js';
import { ARCH_SPECS } from '../src/models/arch/specs.js';
import type { ResolvedModel } from '../src/models/resolve.js';
import { graphMacs } from '../src/models/inspect.js';
import { streamSignature, type StreamSignature, type TensorSpec } from '../src/models/signature.js';
import { parseTflite, type TfliteModel } from '../src/models/tflite.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { sha256Bytes } from '../src/util/sha256.js';
import { syntheticFrames } from '../src/video/synthetic.js';
import { clampStats, decodeClips, floatRun, relativeDiff } from '../scripts/arch-check.js';
import { A0_FILE, ARM_WRESTLING, tempDir } from './helpers.js';

/**
 * Structure, not time: the generated A0 against the official file, A1/A2
 * against the paper's FLOPs ratios and the source page's sizes, determinism,
 * and real runtimes stepping them. scripts/arch-check.ts measures the same
 * on more frames and times the builds.
 */

/** The bytes every machine must build: a change here needs ARCH_GENERATOR_VERSION bumped (and the manifest's pins). */
const EXPECTED_SHA256: Record<ArchId, string> = {
  'a0-arch': 'ed8775148a50362623e95d771c4219e209f7659eba5be003679ec3f95b806887',
  'a1-arch': '18cf6ba1badfc83b057a83cd68f85a4a293edba646c7a6d51996923d4af2edae',
  'a2-arch': '9d9e6fc5b51fc8b021456c0465556102837b7d986c0d598cc177ec117d90aeed',
};

/** MoViNet paper, Kinetics-600 stream models, GFLOPs per 50-frame clip. */
const PAPER_GFLOPS = { a0: 2.71, a1: 6.02, a2: 10.3 };
/** TFLite video classification page, int8 stream model sizes; the page counts in MiB (its A0 figure is the official file's size in MiB). */
const PAGE_SIZE_MIB = { a1: 4.5, a2: 5.1 };

const official = parseTflite(new Uint8Array(fs.readFileSync(A0_FILE)), A0_FILE);
const built = new Map<ArchId, Uint8Array>(ARCH_IDS.map((id) => [id, buildArchModel(id)]));
const graphs = new Map<ArchId, TfliteModel>(ARCH_IDS.map((id) => [id, parseTflite(built.get(id)!, id)]));
const graph = (id: ArchId) => graphs.get(id)!;

const opcodes = (g: TfliteModel) => g.subgraphs[0]!.operators.map((op) => op.opcode);
function histogram(g: TfliteModel): Record<string, number> {
  const h: Record<string, number> = {};
  for (const op of opcodes(g)) h[op] = (h[op] ?? 0) + 1;
  return h;
}
const describe = (t: TensorSpec) => `${t.name} [${t.shape}] ${t.dtype}`;
const states = (s: StreamSignature) => s.states.map((x) => `${describe(x.input)} -> ${describe(x.output)}`);

test('a0-arch has the official A0 int8 graph: same ops in the same order, same signature and MACs, size within 10%', (t) => {
  const g = graph('a0-arch');
  t.deepEqual(histogram(g), histogram(official));
  t.is(opcodes(g).length, 227);
  // Only which stream buffer is quantized first differs (it follows the subgraph input order).
  t.deepEqual(opcodes(g), opcodes(official));
  for (const op of ['HARD_SWISH', 'LOGISTIC', 'MEAN']) t.false(op in histogram(g), op);
  const [mine, theirs] = [streamSignature(g), streamSignature(official)];
  t.is(mine.key, 'serving_default');
  t.deepEqual(states(mine).map(stripTensorNames), states(theirs).map(stripTensorNames));
  t.deepEqual([mine.image.shape, mine.image.dtype], [theirs.image.shape, theirs.image.dtype]);
  t.deepEqual([mine.logits.shape, mine.logits.dtype], [theirs.logits.shape, theirs.logits.dtype]);
  const macs = graphMacs(g) / graphMacs(official);
  t.true(Math.abs(macs - 1) < 0.01, `MACs ratio ${macs}`);
  const size = built.get('a0-arch')!.length / fs.statSync(A0_FILE).size;
  t.true(Math.abs(size - 1) < 0.1, `size ratio ${size}`);
});

/** Raw tensor names of computed outputs (StatefulPartitionedCall:N) depend on the state count; signature names must match. */
function stripTensorNames(s: string): string {
  return s.replace(/StatefulPartitionedCall:\d+/g, 'StatefulPartitionedCall:N');
}

test('every pass-through state is the same tensor in and out, as in the official file; stream buffers are computed', (t) => {
  for (const id of ARCH_IDS) {
    for (const s of streamSignature(graph(id)).states) {
      const passes = s.input.tensorIndex === s.output.tensorIndex;
      t.is(passes, !/_stream_buffer$|^state_head_/.test(s.name), `${id} ${s.name}`);
    }
  }
  const theirs = streamSignature(official).states.filter((s) => s.input.tensorIndex === s.output.tensorIndex);
  t.is(theirs.length, 30);
});

test('a1-arch and a2-arch: MACs per frame relative to a0-arch within 15% of the paper FLOPs ratios', (t) => {
  const a0 = graphMacs(graph('a0-arch'));
  for (const [id, family] of [
    ['a1-arch', 'a1'],
    ['a2-arch', 'a2'],
  ] as const) {
    const ratio = graphMacs(graph(id)) / a0;
    const paper = PAPER_GFLOPS[family] / PAPER_GFLOPS.a0;
    t.true(Math.abs(ratio / paper - 1) < 0.15, `${id}: ${ratio.toFixed(3)} vs paper ${paper.toFixed(3)}`);
  }
});

test('a1-arch and a2-arch: states follow the official A0 pattern, one stream buffer per temporal kernel', (t) => {
  const pattern =
    /^state_(block\d+_layer\d+_(stream_buffer|pool_buffer|pool_frame_count)|head_pool_(buffer|frame_count))$/;
  for (const id of ARCH_IDS) {
    const spec = ARCH_SPECS[archModelInfo(id).family];
    const sig = streamSignature(graph(id));
    const names = sig.states.map((s) => s.name);
    t.deepEqual(names, [...names].sort(), `${id}: signature order`);
    for (const n of names) t.regex(n, pattern);
    const layers = spec.blocks.flatMap((b, bi) => b.layers.map((l, li) => ({ name: `block${bi}_layer${li}`, ...l })));
    const expected = [
      ...layers.flatMap((l) => [
        `state_${l.name}_pool_buffer [1,1,1,1,${l.expand}] float32`,
        `state_${l.name}_pool_frame_count [1] int32`,
        ...(l.kernel[0] > 1 ? [`state_${l.name}_stream_buffer`] : []),
      ]),
      `state_head_pool_buffer [1,1,1,1,${spec.head.projectFilters}] float32`,
      'state_head_pool_frame_count [1] int32',
    ].sort();
    const actual = sig.states.map((s) =>
      s.name.endsWith('_stream_buffer') ? s.name : `${s.name} [${s.input.shape}] ${s.input.dtype}`,
    );
    t.deepEqual(actual, expected, id);
    for (const s of sig.states.filter((x) => x.name.endsWith('_stream_buffer'))) {
      t.is(s.input.dtype, 'float32');
      t.is(s.input.shape.length, 5);
    }
  }
});

test('resolution 172/172/224, 600 classes, and sizes near the source page (4.5 / 5.1 MiB for A1 / A2)', (t) => {
  const resolution: Record<ArchId, number> = { 'a0-arch': 172, 'a1-arch': 172, 'a2-arch': 224 };
  for (const id of ARCH_IDS) {
    const sig = streamSignature(graph(id));
    t.deepEqual(sig.image.shape, [1, 1, resolution[id], resolution[id], 3], id);
    t.is(archModelInfo(id).resolution, resolution[id]);
    t.is(archModelInfo(id).fps, 5);
    t.is(sig.numClasses, 600);
  }
  for (const [id, family] of [
    ['a1-arch', 'a1'],
    ['a2-arch', 'a2'],
  ] as const) {
    const mib = built.get(id)!.length / 2 ** 20;
    t.true(Math.abs(mib / PAGE_SIZE_MIB[family] - 1) < 0.1, `${id}: ${mib.toFixed(2)} MiB`);
  }
});

test('builds are deterministic: the same bytes twice, and the sha256 every machine must get', (t) => {
  for (const id of ARCH_IDS) {
    const again = buildArchModel(id);
    t.is(sha256Bytes(again), sha256Bytes(built.get(id)!), id);
    t.is(sha256Bytes(again), EXPECTED_SHA256[id], `${id}: the generator's output changed`);
  }
});

test('the file says what it is: description and metadata carry the architecture-only note', (t) => {
  for (const id of ARCH_IDS) {
    const g = graph(id);
    t.true(g.description.includes(ARCH_NOTE), id);
    t.deepEqual(g.metadataNames, ['min_runtime_version', 'movinet_bench_arch']);
    t.is(g.version, 3);
  }
});

test('weights are per-channel int8 with zero points 0, biases int32 at input scale times weight scale', (t) => {
  const sg = graph('a1-arch').subgraphs[0]!;
  let convs = 0;
  for (const op of sg.operators.filter((o) => o.opcode === 'CONV_2D' || o.opcode === 'DEPTHWISE_CONV_2D')) {
    const [x, w, b] = op.inputs.map((i) => sg.tensors[i]!);
    const channels = w!.shape[op.opcode === 'CONV_2D' ? 0 : 3]!;
    t.is(w!.type, 'int8');
    t.is(w!.quantization!.scale.length, channels);
    t.true(w!.quantization!.zeroPoint.every((z) => z === 0));
    t.is(b!.type, 'int32');
    const inScale = x!.quantization!.scale[0]!;
    b!.quantization!.scale.forEach((s, c) => t.true(Math.abs(s / (inScale * w!.quantization!.scale[c]!) - 1) < 1e-6));
    convs++;
  }
  t.is(convs, 56 + 41);
});

/** Each model as the runtimes load it, from this file's one build of it (the build is deterministic: tested above). */
const resolved = new Map<ArchId, ResolvedModel>();
function asResolved(id: ArchId): ResolvedModel {
  let model = resolved.get(id);
  if (!model) {
    const bytes = built.get(id)!;
    model = archResolved({ id, path: null, bytes, sha256: sha256Bytes(bytes), built: true, buildMs: 0 });
    resolved.set(id, model);
  }
  return model;
}

test('every architecture model loads and streams on tfjs-tflite, litert and onnxruntime with finite logits', async (t) => {
  for (const id of ARCH_IDS) {
    const model = asResolved(id);
    const frames = syntheticFrames(3, model.signature.height);
    const last: Float32Array[] = [];
    for (const name of ['tfjs-tflite', 'litert', 'onnxruntime']) {
      const session = await getBackend(name).load(model, { threads: 1, cache: false });
      try {
        let state = session.initialState();
        let logits: Float32Array = new Float32Array();
        for (const f of frames) ({ logits, state } = await session.step(f, state));
        const carried = session.readState(state);
        session.release(state);
        t.is(logits.length, 600, `${id} on ${name}`);
        t.true(logits.every(Number.isFinite), `${id} on ${name}`);
        t.true(
          carried.get('state_head_pool_frame_count')![0] === frames.length,
          `${id} on ${name}: frame count carried`,
        );
        last.push(logits);
      } finally {
        session.dispose();
      }
    }
    // Both WASM runtimes run the same TFLite int8 kernels.
    t.deepEqual(Array.from(last[0]!), Array.from(last[1]!), `${id}: tfjs-tflite vs litert`);
  }
});

test('on a real clip, under 1% of the int8 activations sit at the clamp, and the float conversion stays finite', async (t) => {
  for (const id of ARCH_IDS) {
    const model = asResolved(id);
    const clips = await decodeClips([ARM_WRESTLING], model.signature.height, 10);
    const clamp = await clampStats(model.graph, clips);
    t.true(clamp.values > 0);
    t.true(clamp.fraction < 0.01, `${id}: ${(clamp.fraction * 100).toFixed(3)} % at the clamp`);
    const float = await floatRun(model.graph, clips);
    t.is(float.nonFinite, 0, `${id}: NaN or Inf in the float conversion`);
  }
});

test('the float simulator the calibration used computes what the exported graph computes', async (t) => {
  const id = 'a0-arch';
  const model = asResolved(id);
  const clips = await decodeClips([ARM_WRESTLING], 172, 3);
  const float = await floatRun(model.graph, clips);
  const sim = simulateArch(archNetwork(id), clips, ARCH_CALIBRATION[id]!.gains);
  t.true(relativeDiff(float.logits, sim.logits) < 1e-3);
});

test('built on first use into the cache, read from it after, rebuilt when the file does not match its sha256', (t) => {
  const dir = tempDir('movinet-arch-');
  const before = process.env.MOVINET_CACHE_DIR;
  process.env.MOVINET_CACHE_DIR = dir;
  try {
    const first = ensureArchModel('a0-arch');
    t.true(first.built);
    t.is(first.path, archCachePath('a0-arch'));
    t.true(first.path!.startsWith(dir));
    const second = ensureArchModel('a0-arch');
    t.false(second.built);
    t.is(second.sha256, first.sha256);
    fs.writeFileSync(first.path!, 'damaged');
    const third = ensureArchModel('a0-arch');
    t.true(third.built);
    t.regex(third.rebuilt ?? '', /did not match its recorded sha256/);
    t.is(third.sha256, first.sha256);
    t.throws(() => ensureArchModel('a3-arch'), { message: /unknown architecture model 'a3-arch'/ });
  } finally {
    if (before === undefined) delete process.env.MOVINET_CACHE_DIR;
    else process.env.MOVINET_CACHE_DIR = before;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the manifest lists every architecture model, pinned to the build', (t) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'models', 'manifest.json'), 'utf8')) as {
    models: { id: string; resolution: number; fps: number; sha256: string | null; bytes: number | null }[];
  };
  const listed = manifest.models.filter((x) => x.id.endsWith('-arch'));
  t.deepEqual(
    listed.map((m) => m.id),
    [...ARCH_IDS],
  );
  for (const m of listed) {
    const id = m.id as ArchId;
    t.is(m.resolution, archModelInfo(id).resolution, id);
    t.is(m.fps, archModelInfo(id).fps, id);
    t.is(m.sha256, sha256Bytes(built.get(id)!), id);
    t.is(m.bytes, built.get(id)!.length, id);
  }
});
