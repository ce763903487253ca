import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { readReport, type AccuracyReport } from '../src/report/schema.js';
import { resolveShard } from '../src/run/shard.js';
import { PROJECT_ROOT } from '../src/util/paths.js';
import { cli, clip, isOneLineError, shortClip, tempDir } from './helpers.js';

const tmp = tempDir('movinet-distributed-');

const slurmEnv = (id: number, count: number, extra: Record<string, string> = {}) => ({
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_COUNT: String(count),
  SLURM_ARRAY_TASK_MIN: '0',
  SLURM_ARRAY_TASK_MAX: String(count - 1),
  SLURM_ARRAY_TASK_STEP: '1',
  SLURM_ARRAY_JOB_ID: '4242',
  ...extra,
});

test('--shard auto takes the slice from a Slurm array or an Indexed Job, as i/n means it', (t) => {
  t.deepEqual(resolveShard({ kind: 'auto', count: null }, slurmEnv(2, 4)), {
    index: 2,
    count: 4,
    scheme: 'slurm-array',
    source: 'SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=4',
    task: 'slurm job 4242, array task 2',
  });
  const k8s = resolveShard({ kind: 'auto', count: 8 }, { JOB_COMPLETION_INDEX: '5', HOSTNAME: 'acc-5-x' });
  t.like(k8s, { index: 5, count: 8, scheme: 'k8s-indexed-job' });
  t.regex(k8s.task ?? '', /completion index 5 \(pod acc-5-x\)/);
  t.like(resolveShard({ kind: 'explicit', index: 1, count: 3 }, slurmEnv(0, 4)), {
    index: 1,
    count: 3,
    scheme: 'explicit',
  });
  // auto/n agrees with an exported count, or stands in for a missing one.
  t.like(resolveShard({ kind: 'auto', count: 4 }, slurmEnv(3, 4)), { index: 3, count: 4 });
  t.like(resolveShard({ kind: 'auto', count: 4 }, { SLURM_ARRAY_TASK_ID: '1' }), { index: 1, count: 4 });
});

test('--shard auto refuses, in one line, whatever would mis-slice: missing, contradictory, offset or stepped arrays', (t) => {
  const refused: [Parameters<typeof resolveShard>, RegExp][] = [
    [[{ kind: 'auto', count: null }, {}], /neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/],
    [[{ kind: 'auto', count: null }, { SLURM_ARRAY_TASK_ID: '1' }], /SLURM_ARRAY_TASK_COUNT is not set/],
    [[{ kind: 'auto', count: 8 }, slurmEnv(1, 4)], /auto\/8 contradicts SLURM_ARRAY_TASK_COUNT=4/],
    [[{ kind: 'auto', count: null }, slurmEnv(2, 4, { SLURM_ARRAY_TASK_MIN: '1' })], /starts at 1/],
    [[{ kind: 'auto', count: null }, slurmEnv(2, 4, { SLURM_ARRAY_TASK_STEP: '2' })], /step 2/],
    [[{ kind: 'auto', count: null }, slurmEnv(2, 4, { SLURM_ARRAY_TASK_MAX: '5' })], /SLURM_ARRAY_TASK_MAX=5/],
    [[{ kind: 'auto', count: null }, slurmEnv(2, 4, { SLURM_ARRAY_TASK_ID: '4' })], /not below the count 4/],
    [
      [
        { kind: 'auto', count: null },
        { ...slurmEnv(0, 2), JOB_COMPLETION_INDEX: '0' },
      ],
      /both .* are set/,
    ],
    [[{ kind: 'auto', count: null }, { JOB_COMPLETION_INDEX: '3' }], /does not export its completion count/],
    [[{ kind: 'auto', count: 3 }, { JOB_COMPLETION_INDEX: '3' }], /not below the count/],
    [[{ kind: 'auto', count: null }, slurmEnv(0, 2, { SLURM_ARRAY_TASK_ID: 'x' })], /not a whole number/],
  ];
  for (const [args, message] of refused) t.throws(() => resolveShard(...args), { message }, JSON.stringify(args));
  const r = cli(['accuracy', '--subset', 'kinetics-sample', '--shard', 'auto'], {
    SLURM_ARRAY_TASK_ID: '',
    JOB_COMPLETION_INDEX: '',
  });
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/);
  const zero = cli(['accuracy', '--subset', 'kinetics-sample', '--shard', 'auto/0']);
  t.is(zero.code, 2);
  t.true(isOneLineError(zero.stderr), zero.stderr);
  t.regex(zero.stderr, /--shard auto\/n needs n >= 1, got 'auto\/0'/);
});

/** Three real clips, the first seconds of two: what is checked is the journal and the merge, not the clips. */
const CLIPS = [
  shortClip('arm_wrestling__mmaction2-demo.mp4', 3),
  shortClip('tai_chi__mmskeleton-ta_chi.mp4', 4),
  clip('windsurfing__video-segmentation-surf.mp4'),
];
const csv = path.join(tmp, 'three.csv');
fs.writeFileSync(csv, CLIPS.map((c) => `${c},${path.basename(c).split('__')[0]!.replace(/_/g, ' ')}`).join('\n'));
const ACCURACY = ['accuracy', '--dataset', csv, '--models', 'a0', '--backends', 'onnxruntime'];

/** The three clips unsharded, run once for the tests that compare with it. */
let whole: string | undefined;
function wholeRun(t: { is(a: unknown, b: unknown, m?: string): void }): string {
  if (!whole) {
    const out = path.join(tmp, 'whole.json');
    const r = cli([...ACCURACY, '--out', out]);
    t.is(r.code, 0, r.stderr);
    whole = out;
  }
  return whole;
}

const predictions = (r: AccuracyReport) =>
  r.runs.flatMap((run) => run.clips.map((c) => [run.backend, c.file, c.status, c.top1ByFrame, c.top5]));

test('a killed run resumes from its journal: a torn last line is dropped, the report equals an uninterrupted one', (t) => {
  const whole = wholeRun(t);
  const journal = `${whole}.journal.jsonl`;
  const lines = fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean);
  t.is(lines.length, 1 + CLIPS.length, 'a header and a line per clip');

  // As if killed while writing the third clip: two whole lines and half of the next.
  const resumed = path.join(tmp, 'resumed.json');
  fs.writeFileSync(`${resumed}.journal.jsonl`, `${lines.slice(0, 2).join('\n')}\n${lines[2]!.slice(0, 100)}`);
  const r = cli([...ACCURACY, '--out', resumed, '--resume']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /resumed: 1 clip result\(s\) taken from/);
  t.deepEqual(predictions(readReport(resumed) as AccuracyReport), predictions(readReport(whole) as AccuracyReport));
  t.is(fs.readFileSync(`${resumed}.journal.jsonl`, 'utf8').split('\n').filter(Boolean).length, 1 + CLIPS.length);

  // Another setting, or no --out to find the journal by: refused in one line.
  for (const args of [
    [...ACCURACY, '--out', resumed, '--resume', '--fps', '4'],
    [...ACCURACY, '--out', resumed, '--resume', '--resize', 'squash'],
    [...ACCURACY, '--resume'],
  ]) {
    const bad = cli(args);
    t.is(bad.code, 2, args.join(' '));
    t.true(isOneLineError(bad.stderr), bad.stderr);
  }
  const other = cli([...ACCURACY.slice(0, -1), 'onnxruntime-exact', '--out', resumed, '--resume']);
  t.is(other.code, 0, other.stderr);
  // Another backend has no journaled results: it runs every clip, none taken from the journal.
  t.notRegex(other.stderr, /resumed: [1-9]/);
  const exact = readReport(resumed) as AccuracyReport;
  t.deepEqual(
    exact.runs.map((run) => [run.backend, run.clips.length, run.clips.every((c) => c.status === 'ok')]),
    [['onnxruntime-exact', CLIPS.length, true]],
  );
  // A journal written by another build of the runtime, or from another model file: refused.
  const edited = (f: (line: { runtimes: Record<string, { version: string }>; model: { sha256: string } }) => void) => {
    const [head, ...rest] = lines;
    const body = rest.map((l) => {
      const parsed = JSON.parse(l) as Parameters<typeof f>[0];
      f(parsed);
      return JSON.stringify(parsed);
    });
    fs.writeFileSync(`${resumed}.journal.jsonl`, `${[head, ...body].join('\n')}\n`);
  };
  for (const [change, message] of [
    [
      (l: Parameters<Parameters<typeof edited>[0]>[0]) => (l.runtimes['onnxruntime']!.version = '0.0.0'),
      /has onnxruntime as .* 0\.0\.0/,
    ],
    [
      (l: Parameters<Parameters<typeof edited>[0]>[0]) => (l.model.sha256 = 'f'.repeat(64)),
      /has a0-int8 with sha256 f{64}/,
    ],
  ] as const) {
    edited(change);
    const bad = cli([...ACCURACY, '--out', resumed, '--resume']);
    t.is(bad.code, 2);
    t.true(isOneLineError(bad.stderr), bad.stderr);
    t.regex(bad.stderr, message);
  }
});

test('reports merge takes a folder of engine shards, and names a missing one by index and task', (t) => {
  const dir = path.join(tmp, 'shards');
  for (const i of [0, 1, 2]) {
    const r = cli([...ACCURACY, '--shard', 'auto', '--out', path.join(dir, `shard-${i}.json`)], slurmEnv(i, 3));
    t.is(r.code, 0, r.stderr);
  }
  const merged = path.join(tmp, 'merged.json');
  t.is(cli(['reports', 'merge', dir, '--out', merged]).code, 0);
  t.deepEqual(
    predictions(readReport(merged) as AccuracyReport),
    predictions(readReport(wholeRun(t)) as AccuracyReport),
  );
  const shard = (readReport(path.join(dir, 'shard-1.json')) as AccuracyReport).config.shard;
  t.like(shard, { index: 1, count: 3, scheme: 'slurm-array', task: 'slurm job 4242, array task 1' });

  fs.rmSync(path.join(dir, 'shard-1.json'));
  const gap = cli(['reports', 'merge', dir, '--out', path.join(tmp, 'gap.json')]);
  t.is(gap.code, 2);
  t.true(isOneLineError(gap.stderr), gap.stderr);
  t.regex(gap.stderr, /only 2 of 3 shards given; missing shard 1 \(slurm job 4242, array task 1\)/);
  t.false(fs.existsSync(path.join(tmp, 'gap.json')));
});

const cluster = (...p: string[]) => path.join(PROJECT_ROOT, 'scripts', 'cluster', ...p);

test('the Kubernetes recipe: an Indexed Job whose count, shard flag and output names agree, and a merge Job', (t) => {
  const docs = YAML.parseAllDocuments(fs.readFileSync(cluster('kubernetes', 'accuracy-indexed-job.yaml'), 'utf8')).map(
    (d) =>
      d.toJS() as {
        kind: string;
        metadata: { name: string };
        spec: Record<string, unknown> & {
          template: { spec: { containers: { args: string[]; resources?: { limits: { cpu: string } } }[] } };
        };
      },
  );
  t.deepEqual(
    docs.map((d) => [d.kind, d.metadata.name]),
    [
      ['Job', 'movinet-accuracy'],
      ['Job', 'movinet-accuracy-merge'],
    ],
  );
  const [shards, merge] = docs as [(typeof docs)[0], (typeof docs)[0]];
  t.is(shards.spec.completionMode, 'Indexed');
  const n = shards.spec.completions as number;
  t.true((shards.spec.parallelism as number) <= n);
  const run = shards.spec.template.spec.containers[0]!;
  const args = run.args.join(' ');
  t.true(args.includes(`--shard auto/${n}`), args);
  t.regex(args, /--resume/);
  t.regex(args, /--threads 1/);
  t.regex(args, /shard-\$\(JOB_COMPLETION_INDEX\)\.json/);
  t.is(run.resources?.limits.cpu, '1');
  const mergeArgs = merge.spec.template.spec.containers[0]!.args.join(' ');
  t.true(mergeArgs.includes(`-ge ${n}`), mergeArgs);
  t.regex(mergeArgs, /reports merge \/runs\/k600-a0 --out/);
});

test('the GitHub Actions recipe: one job per listed shard with a matching count, then a merge that needs them', (t) => {
  const wf = YAML.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, '.github', 'workflows', 'accuracy-matrix.yml'), 'utf8'),
  ) as {
    jobs: {
      shard: { strategy: { matrix: { shard: number[] } }; steps: { run?: string }[] };
      merge: { needs: string; steps: { run?: string }[] };
    };
  };
  const list = wf.jobs.shard.strategy.matrix.shard;
  t.deepEqual(list, [...list.keys()]);
  const run = wf.jobs.shard.steps.map((s) => s.run ?? '').join('\n');
  t.true(run.includes(`--shard \${{ matrix.shard }}/${list.length}`), run);
  t.is(wf.jobs.merge.needs, 'shard');
  t.regex(wf.jobs.merge.steps.map((s) => s.run ?? '').join('\n'), /reports merge shards --out merged\.json/);
});

test('the Slurm recipe: one core per task, --shard auto with --resume, and a merge after the whole array', (t) => {
  const task = fs.readFileSync(cluster('slurm', 'accuracy-array.sbatch'), 'utf8');
  t.regex(task, /^#SBATCH --cpus-per-task=1$/m);
  t.regex(task, /^#SBATCH --output=logs\/%x-%A_%a\.log$/m);
  t.regex(task, /--threads 1 --shard auto --resume/);
  const submit = fs.readFileSync(cluster('slurm', 'submit.sh'), 'utf8');
  t.regex(submit, /--array="0-\$\(\(shards - 1\)\)"/);
  t.regex(submit, /--dependency="afterok:\$\{array\}"/);
});
