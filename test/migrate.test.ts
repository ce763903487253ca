import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { REQUIRED_FIELDS } from '../src/report/migrate.js';
import {
  AccuracyReportSchema,
  BenchReportSchema,
  DriftReportSchema,
  LiveReportSchema,
  ParityReportSchema,
  readReport,
  SCHEMA_VERSION,
  type BenchReport,
  type AccuracyReport,
} from '../src/report/schema.js';
import { UserError } from '../src/util/errors.js';
import { cli, isOneLineError, tempDir } from './helpers.js';

type Json = Record<string, unknown>;

const dir = tempDir('movinet-migrate-');
let written = 0;

/** Writes `report` to a file of its own and reads it back as the CLI would. */
function read(report: Json): ReturnType<typeof readReport> {
  const file = path.join(dir, `r${written++}.json`);
  fs.writeFileSync(file, JSON.stringify(report));
  return readReport(file);
}

/*
 * Reports as each schema version wrote them, from the history of src/report/schema.ts: version 1 at
 * 1a377a5 (bench), 4f44124 (accuracy) and 424af04 (parity); version 2 at d069e7d (skipped and failed in
 * the header), with live from ae0125e; versions 3 (23216ac), 4 (c7b5850) and 5 (onnxruntime telemetry) kept
 * every top-level field.
 * Each holds its version's required fields and nothing else, with empty lists of rows.
 */
const ENVIRONMENT = {
  cpuModel: 'Test CPU @ 2.00GHz',
  cpuCores: 4,
  totalMemGB: 16,
  os: 'Linux 6.1.0 x64',
  node: 'v20.19.0',
  v8: '11.3.244.8-node.26',
  packages: { '@tensorflow/tfjs-tflite': '0.0.1-alpha.10' },
  ffmpeg: 'ffmpeg version 6.1.1',
  gitCommit: null,
  ci: false,
};

const DATASET_V1 = { name: 'kinetics-sample', source: 'datasets/kinetics-sample/manifest.json', clips: 22 };

function config(version: number, kind: string): Json {
  const since2 = version >= 2;
  const dataset = since2 ? { ...DATASET_V1, missingClips: 0 } : DATASET_V1;
  const pairs = { models: ['a0'], backends: ['tfjs-tflite', 'onnxruntime'] };
  switch (kind) {
    case 'bench':
      return {
        ...pairs,
        threads: 1,
        frames: 20,
        warmup: 5,
        repeats: 1,
        ...(since2 ? { processes: 1 } : {}),
        input: 'synthetic',
        percentiles: [50, 90],
      };
    case 'accuracy':
      return {
        dataset,
        ...pairs,
        resize: 'crop',
        fps: 5,
        shard: since2 ? { index: 0, count: 2, datasetClips: 22 } : { index: 0, count: 2 },
      };
    case 'parity':
      return { dataset, ...pairs, minAgreement: 0.9, resize: 'crop', fps: 5 };
    case 'drift':
      return {
        dataset,
        model: 'a0',
        backend: 'onnxruntime-exact',
        reference: 'dequantized',
        referenceBackend: 'onnxruntime-float',
        framesPerStream: 300,
        streams: 22,
        fillUp: 30,
        inside: [],
        counterfactual: false,
        threads: 1,
        resize: 'crop',
        fps: 5,
      };
    case 'live':
      return {
        ...pairs,
        threads: 1,
        input: 'clip.mp4',
        fps: null,
        policy: 'latest',
        durationS: null,
        loop: false,
        runs: 1,
        warmup: 0,
        resize: 'crop',
      };
    default:
      throw new Error(`no ${kind} report in the history`);
  }
}

const BODY: Record<string, Json> = {
  bench: { results: [] },
  accuracy: { runs: [], agreement: [] },
  parity: { pairs: [], passed: true },
  live: { results: [], interrupted: false },
  drift: { results: [] },
};

function minimal(version: number, kind: string): Json {
  return {
    schemaVersion: version,
    tool: { name: 'movinet-bench', version: '0.1.0' },
    createdAt: '2026-11-20T10:00:00.000Z',
    command: `movinet-bench ${kind}`,
    environment: ENVIRONMENT,
    kind,
    config: config(version, kind),
    ...BODY[kind],
    skipped: [],
    ...(version >= 2 ? { failed: [] } : {}),
  };
}

const versions = Object.keys(REQUIRED_FIELDS)
  .map(Number)
  .filter((v) => v <= SCHEMA_VERSION);
const kindsOf = (version: number) => Object.keys(REQUIRED_FIELDS[version] ?? {});

/** A bench row as version 1 wrote it (after 3606057 added warnings); the figures are made up but consistent. */
const BENCH_ROW_V1 = {
  model: {
    id: 'a0-int8',
    path: 'movinet_a0_stream_k600_int8.tflite',
    sha256: 'ab'.repeat(32),
    verified: true,
    bytes: 4_000_000,
    family: 'a0',
    precision: 'int8',
    resolution: 172,
    numClasses: 600,
    states: 50,
    flopsPerFrame: 2.7e9,
    reference: null,
  },
  backend: 'tfjs-tflite',
  status: 'ok',
  runtime: {
    backend: 'tfjs-tflite',
    package: '@tensorflow/tfjs-tflite',
    version: '0.0.1-alpha.10',
    build: 'wasm simd',
    threads: { requested: 1, enforcement: 'set' },
  },
  input: 'synthetic',
  loadMs: 120,
  firstInferenceMs: 40,
  warmupFrames: 5,
  samplesMs: [10, 11, 12, 13],
  repeatP50Ms: [11.5],
  stats: {
    count: 4,
    min: 10,
    max: 13,
    mean: 11.5,
    std: 1.29,
    p50: 11.5,
    p90: 12.7,
    percentiles: { p50: 11.5, p90: 12.7 },
    medianCI95: [10, 13],
  },
  fps: 5,
  realtimeFactor: 17.4,
  gflopsPerSecond: 235,
  peakRssMB: 210,
  overhead: { bareP50Ms: 11, ratio: 1.05 },
  warnings: [],
};

test('every version a step starts from lists its required fields, and the current version lists the schema’s', (t) => {
  for (let v = 1; v < SCHEMA_VERSION; v++) t.truthy(REQUIRED_FIELDS[v], `schemaVersion ${v} has no list`);
  const current = REQUIRED_FIELDS[SCHEMA_VERSION];
  if (!current) return t.pass('the current version is left to the schema alone');
  const schemas = {
    bench: BenchReportSchema,
    accuracy: AccuracyReportSchema,
    parity: ParityReportSchema,
    live: LiveReportSchema,
    drift: DriftReportSchema,
  };
  t.deepEqual(Object.keys(current).sort(), Object.keys(schemas).sort());
  for (const [kind, schema] of Object.entries(schemas)) {
    const required = Object.entries(schema.shape)
      .filter(([, field]) => !field.safeParse(undefined).success)
      .map(([name]) => name);
    t.deepEqual([...(current[kind] ?? [])].sort(), required.sort(), kind);
  }
});

test('a complete report of every version and kind reads as a current report', (t) => {
  for (const version of versions) {
    for (const kind of kindsOf(version)) {
      const report = minimal(version, kind);
      // The fixture holds exactly what its version required, so the refusal tests below cover every field.
      t.deepEqual(Object.keys(report).sort(), [...(REQUIRED_FIELDS[version]?.[kind] ?? [])].sort());
      const r = read(report);
      t.is(r.schemaVersion, SCHEMA_VERSION, `${version} ${kind}`);
      t.is<string, string>(r.kind, kind);
    }
  }
});

for (const version of versions) {
  for (const kind of kindsOf(version)) {
    test(`schemaVersion ${version} ${kind}: a report missing any required top-level field is refused, naming it`, (t) => {
      for (const field of REQUIRED_FIELDS[version]?.[kind] ?? []) {
        const report = Object.fromEntries(Object.entries(minimal(version, kind)).filter(([name]) => name !== field));
        const e = t.throws(() => read(report), { instanceOf: UserError }, field);
        const names =
          field === 'schemaVersion'
            ? /has schemaVersion undefined/
            : new RegExp(`does not match the schema: ${field}: missing`);
        t.regex(e?.message ?? '', names, field);
        t.false(e?.message.includes('\n'), field);
      }
    });
  }
}

test('a kind its version did not have is refused, naming kind', (t) => {
  const live: Json = { ...minimal(2, 'live'), schemaVersion: 1 };
  delete live.failed;
  t.throws(() => read(live), { message: /does not match the schema: kind: "live" is not a kind of schemaVersion 1/ });
  t.throws(() => read({ ...minimal(3, 'bench'), kind: 7 }), { message: /schema: kind: 7 is not a kind/ });
});

test('an old report whose lists are not lists is refused, not read as empty', (t) => {
  const cases: [number, string, Json, RegExp][] = [
    [1, 'bench', { results: null }, /schema: results: /],
    [1, 'bench', { results: [7] }, /schema: results\.0: /],
    [1, 'bench', { skipped: {} }, /schema: skipped: /],
    [1, 'bench', { skipped: [null] }, /schema: skipped\.0: /],
    [1, 'bench', { config: 'fast' }, /schema: config: /],
    [1, 'accuracy', { config: null }, /schema: config: /],
    [2, 'bench', { results: null }, /schema: results: /],
    [2, 'bench', { results: ['row'] }, /schema: results\.0: /],
    [3, 'live', { results: null }, /schema: results: /],
  ];
  for (const [version, kind, change, says] of cases) {
    t.throws(() => read({ ...minimal(version, kind), ...change }), { instanceOf: UserError, message: says });
  }
});

test('complete old bench reports with rows still migrate: one process per v1 row, the machine from the environment', (t) => {
  const v1 = {
    ...minimal(1, 'bench'),
    results: [BENCH_ROW_V1],
    skipped: [
      { model: 'a1', backend: 'tfjs-tflite', status: 'skipped', reason: 'model a1-int8: file not found' },
      { model: 'a0', backend: 'litert', status: 'failed', reason: 'boom' },
    ],
  };
  const r1 = read(v1) as BenchReport;
  t.is(r1.config.processes, 1);
  const row = r1.results[0]!;
  t.is(row.processes.length, 1);
  t.like(row.processes[0], { samples: 4, loadMs: 120, p50Ms: 11.5, p90Ms: 12.7, overheadRatio: 1.05 });
  t.is(row.processMedianCI, null);
  t.like(row.machine, { cpuModel: ENVIRONMENT.cpuModel, cpuCores: ENVIRONMENT.cpuCores, os: ENVIRONMENT.os });
  t.deepEqual(r1.skipped, [
    { model: 'a1-int8', backend: 'tfjs-tflite', cause: 'missing', reason: 'model a1-int8: file not found' },
  ]);
  t.deepEqual(r1.failed, [{ model: 'a0-int8', backend: 'litert', error: 'boom' }]);

  // Version 2 rows carry their processes and no machine; version 3 rows carry their own machine.
  const v2Row = { ...row, machine: undefined };
  const r2 = read({ ...minimal(2, 'bench'), results: [JSON.parse(JSON.stringify(v2Row)) as Json] }) as BenchReport;
  t.deepEqual(r2.results[0]!.machine, row.machine);
  const pi = { ...row.machine, label: 'raspberry-pi-5', cpuModel: 'Cortex-A76' };
  const r3 = read({ ...minimal(3, 'bench'), results: [{ ...row, machine: pi }] }) as BenchReport;
  t.deepEqual(r3.results[0]!.machine, pi);
});

test('complete old accuracy and parity reports still migrate: missing clips counted as none, shard size unknown', (t) => {
  const accuracy = read(minimal(1, 'accuracy')) as AccuracyReport;
  t.is(accuracy.config.dataset.missingClips, 0);
  t.deepEqual(accuracy.config.shard, { index: 0, count: 2, datasetClips: null });
  const whole = read({ ...minimal(1, 'accuracy'), config: { ...config(1, 'accuracy'), shard: null } });
  t.is(whole.kind === 'accuracy' ? whole.config.shard : undefined, null);
  const parity = read(minimal(1, 'parity'));
  t.is(parity.kind === 'parity' ? parity.config.dataset.missingClips : undefined, 0);
});

test('compare refuses an old report without its results: exit 2, one line naming the field', (t) => {
  const good = path.join(dir, 'good.json');
  const broken = path.join(dir, 'broken.json');
  const report = minimal(1, 'bench');
  fs.writeFileSync(good, JSON.stringify(report));
  delete report.results;
  fs.writeFileSync(broken, JSON.stringify(report));
  for (const args of [
    [broken, good],
    [good, broken],
  ]) {
    const r = cli(['compare', ...args]);
    t.is(r.code, 2, r.stderr);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, /broken\.json does not match the schema: results: missing/);
    t.notRegex(r.stdout, /no regression/);
  }
});
