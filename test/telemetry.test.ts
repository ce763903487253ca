import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { runChild } from '../src/util/child.js';
import { allowedCpus } from '../src/util/start-gate.js';
import { cacheDir, PROJECT_ROOT } from '../src/util/paths.js';
import { CLI_MAIN, tempDir } from './helpers.js';

/*
 * onnxruntime-node's telemetry must not run in a process movinet-bench measures. Every run here gets a private
 * TMPDIR, HOME and XDG_CACHE_HOME (where the telemetry would leave its files), an environment without the CI
 * variables that would switch it off on their own, and ORT_DISABLE_TELEMETRY=0: the tool has to switch it off
 * itself. A control shows the same library, in the same kind of environment without the switch, does leave them.
 */

const TELEMETRY_MODULE = pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'src', 'util', 'ort-telemetry.js')).href;
const THREADS_MODULE = pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'src', 'util', 'os-threads.js')).href;
const root = tempDir('movinet-telemetry-');
test.after.always(() => fs.rmSync(root, { recursive: true, force: true }));

/**
 * Variables that switch the telemetry off in onnxruntime-node 1.30 (the CI ones by their presence), read from the
 * strings of its library; none may reach a run here, or the test would prove nothing.
 */
const SWITCHES = [
  'ORT_DISABLE_TELEMETRY',
  'ORT_TELEMETRY_DISABLED',
  'ORT_RUNNING_UNIT_TESTS',
  'CI',
  'TF_BUILD',
  'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'CODEBUILD_BUILD_ID',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER',
];

/** Anything the telemetry might upload goes to a closed local port: the control never reaches the collector. */
const NO_UPLOAD = Object.fromEntries(
  ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'].map((k) => [
    k,
    'http://127.0.0.1:9',
  ]),
);

interface Private {
  tmp: string;
  home: string;
  xdg: string;
  env: NodeJS.ProcessEnv;
}

/** Fresh private directories and an environment that points every temp and cache location at them. */
function privateRun(name: string): Private {
  const dir = fs.mkdtempSync(path.join(root, `${name}-`));
  const [tmp, home, xdg] = ['tmp', 'home', 'xdg'].map((d) => path.join(dir, d)) as [string, string, string];
  for (const d of [tmp, home, xdg]) fs.mkdirSync(d);
  const inherited = Object.entries(process.env).filter(
    ([k]) => !SWITCHES.includes(k) && !/^(no_proxy|TMP|TEMP)$/i.test(k),
  );
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    ...NO_UPLOAD,
    TMPDIR: tmp,
    HOME: home,
    XDG_CACHE_HOME: xdg,
    // The converted models' cache other tests use too, so no run converts A0 again.
    MOVINET_CACHE_DIR: cacheDir(),
  };
  return { tmp, home, xdg, env };
}

/** Every file and folder under `dir`, relative to it. */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** The files the telemetry makes under HOME and XDG_CACHE_HOME: its device id and database. */
function microsoftTrees(p: Private): string[] {
  return [p.home, p.xdg].flatMap((d) => tree(d).filter((f) => f.split(path.sep).includes('Microsoft')));
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = PROJECT_ROOT,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const threads = Math.min(2, os.availableParallelism());
const BENCH = ['bench', '--models', 'a0', '--backends', 'onnxruntime', '--threads', String(threads)];
const SHORT = ['--frames', '20', '--warmup', '2', '--no-roofline', '--no-overhead'];

/** Every onnxruntime row: telemetry checked off in its process, and no OS thread beyond the ones it declares. */
function assertClean(t: ExecutionContext, report: BenchReport): void {
  t.regex(report.environment.onnxruntimeTelemetry ?? '', /^off: ORT_DISABLE_TELEMETRY=1 /);
  t.is(report.results.length, 1);
  for (const r of report.results) {
    t.is(r.runtime.telemetry?.state, 'off', r.runtime.telemetry?.evidence);
    t.regex(r.runtime.telemetry?.evidence ?? '', /^ORT_DISABLE_TELEMETRY=1; checked after session creation/);
    const counted = r.runtime.threads.osThreads;
    t.deepEqual(counted, { started: threads - 1, expected: threads - 1 }, r.runtime.threads.enforcement);
    t.regex(r.runtime.threads.enforcement, /verified: session creation started \d+ OS threads, \d+ expected/);
    t.false(
      r.warnings.some((w) => /telemetry|OS threads/.test(w)),
      r.warnings.join('; '),
    );
  }
}

/** A one-node ONNX model (Relu on 4 floats), written for the control. */
function reluModel(file: string): string {
  const { onnx } = onnxProto;
  const tensor = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'movinet-bench telemetry test',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'relu',
      node: [{ opType: 'Relu', input: ['x'], output: ['y'], name: 'relu' }],
      input: [{ name: 'x', type: tensor }],
      output: [{ name: 'y', type: tensor }],
    },
  });
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}

/**
 * One session of onnxruntime-node in a bare Node process, with the tool's switch or without it: its pid, the OS
 * threads its creation started (one intra-op thread: none expected) and what the tool's check says.
 */
const CONTROL = `
const { default: ort } = await import('onnxruntime-node');
const { checkOrtTelemetry, disableOrtTelemetry } = await import(${JSON.stringify(TELEMETRY_MODULE)});
const { osThreads } = await import(${JSON.stringify(THREADS_MODULE)});
if (process.env.SWITCH_AT_RUNTIME === '1') disableOrtTelemetry();
const before = osThreads();
const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
await ort.InferenceSession.create(process.env.CONTROL_MODEL, options);
const started = osThreads() - before;
process.stdout.write(JSON.stringify({ pid: process.pid, started, check: checkOrtTelemetry() }));
`;

interface ControlResult {
  pid: number;
  started: number;
  check: { state: string; evidence: string };
}

async function control(p: Private, extra: NodeJS.ProcessEnv): Promise<ControlResult> {
  const model = reluModel(path.join(path.dirname(p.tmp), 'relu.onnx'));
  const r = await run(['--input-type=module', '-e', CONTROL], { ...p.env, ...extra, CONTROL_MODEL: model });
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ControlResult;
}

const linux = process.platform === 'linux';
const onLinux = linux ? test.serial : test.serial.skip;

onLinux(
  'control: without the switch, onnxruntime-node leaves its files, starts a thread, and the check says on',
  async (t) => {
    const p = privateRun('control-on');
    const r = await control(p, {});
    t.true(tree(p.tmp).includes(`mat-debug-${r.pid}.log`), tree(p.tmp).join(', '));
    t.true(microsoftTrees(p).length > 0, 'no telemetry database under XDG_CACHE_HOME');
    t.is(r.check.state, 'on', r.check.evidence);
    t.true(r.started > 0, `session creation started ${r.started} OS threads with one intra-op thread`);
  },
);

onLinux('control: the switch set at runtime over a user’s 0 leaves nothing and starts no thread', async (t) => {
  const p = privateRun('control-off');
  const r = await control(p, { ORT_DISABLE_TELEMETRY: '0', SWITCH_AT_RUNTIME: '1' });
  t.deepEqual(tree(p.tmp), []);
  t.deepEqual(microsoftTrees(p), []);
  t.is(r.check.state, 'off', r.check.evidence);
  t.is(r.started, 0);
});

onLinux(
  'bench on onnxruntime leaves no file in its temp dir or caches, and starts no thread it does not declare',
  async (t) => {
    const p = privateRun('bench');
    const out = path.join(path.dirname(p.tmp), 'r.json');
    const r = await run([CLI_MAIN, ...BENCH, ...SHORT, '--json', '--out', out], {
      ...p.env,
      ORT_DISABLE_TELEMETRY: '0',
    });
    t.is(r.code, 0, r.stderr);
    t.deepEqual(tree(p.tmp), []);
    t.deepEqual(microsoftTrees(p), []);
    assertClean(t, readReport(out) as BenchReport);
  },
);

onLinux('bench --processes 2: every child runs with the switch and leaves nothing', async (t) => {
  const p = privateRun('processes');
  const out = path.join(path.dirname(p.tmp), 'r.json');
  const r = await run([CLI_MAIN, ...BENCH, ...SHORT, '--processes', '2', '--json', '--out', out], {
    ...p.env,
    ORT_DISABLE_TELEMETRY: '0',
  });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(tree(p.tmp), []);
  t.deepEqual(microsoftTrees(p), []);
  const report = readReport(out) as BenchReport;
  t.is(report.results[0]?.processes.length, 2);
  assertClean(t, report);
});

test('runChild gives a child the switch over the environment it was handed', async (t) => {
  const r = await runChild(process.execPath, ['-e', 'process.stdout.write(`${process.env.ORT_DISABLE_TELEMETRY}`)'], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '0' },
  });
  t.is(r.stdout, '1');
});

/**
 * A baseline build for `ab` that sets nothing itself: it records the switch as its process received it, then runs
 * this checkout's CLI (the run must still produce reports).
 */
function recordingBaseline(log: string): string {
  const dir = fs.mkdtempSync(path.join(root, 'baseline-'));
  const cliDir = path.join(dir, 'dist', 'src', 'cli');
  fs.mkdirSync(cliDir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(
    path.join(cliDir, 'main.js'),
    [
      "import fs from 'node:fs';",
      `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args: process.argv.slice(2), switch: process.env.ORT_DISABLE_TELEMETRY ?? null }) + '\\n');`,
      `await import(${JSON.stringify(pathToFileURL(CLI_MAIN).href)});`,
    ].join('\n'),
  );
  return dir;
}

// A duet pins each side to a CPU of its own, with taskset.
const duet = linux && (allowedCpus() ?? []).length >= 2 && !spawnSync('taskset', ['--version']).error;
for (const mode of ['interleaved', 'duet'] as const) {
  (mode === 'interleaved' ? onLinux : duet ? test.serial : test.serial.skip)(
    `ab --mode ${mode}: both sides' bench processes get the switch, the baseline's from the environment`,
    async (t) => {
      const p = privateRun(`ab-${mode}`);
      const log = path.join(path.dirname(p.tmp), 'baseline.log');
      const outDir = path.join(path.dirname(p.tmp), 'ab');
      const r = await run(
        [
          CLI_MAIN,
          'ab',
          ...['--baseline', recordingBaseline(log), '--mode', mode, '--processes', '2'],
          ...['--models', 'a0', '--backends', 'onnxruntime', '--threads', '1'],
          ...['--frames', '20', '--warmup', '2', '--out-dir', outDir, '--report-only'],
        ],
        { ...p.env, ORT_DISABLE_TELEMETRY: '0' },
      );
      t.is(r.code, 0, r.stderr);
      const calls = fs
        .readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { args: string[]; switch: string | null })
        .filter((c) => c.args.includes('--out'));
      t.is(calls.length, 2);
      for (const c of calls) t.is(c.switch, '1', c.args.join(' '));
      t.deepEqual(tree(p.tmp), []);
      t.deepEqual(microsoftTrees(p), []);
      for (const side of ['baseline', 'candidate'])
        for (const row of (readReport(path.join(outDir, `${side}.json`)) as BenchReport).results)
          t.is(row.runtime.telemetry?.state, 'off', `${side}: ${row.runtime.telemetry?.evidence}`);
    },
  );
}
