import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ARM_WRESTLING, cli, clip, isOneLineError, tempDir } from './helpers.js';

/**
 * Bad input and faults, command by command: every case must exit 2 with one
 * line on stderr, write no report (nor a temporary file), and leave no child
 * process running. The `out` file each case names must not exist afterwards.
 */

const tmp = tempDir('movinet-faults-');
const file = (name: string, contents: string | Uint8Array) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, contents);
  return p;
};
const dir = (name: string) => {
  const p = path.join(tmp, name);
  fs.mkdirSync(p, { recursive: true });
  return p;
};

const regularFile = file('plain.txt', 'x');
const emptyVideo = file('empty.mp4', '');
const brokenVideo = file('broken.mp4', fs.readFileSync(ARM_WRESTLING).subarray(0, 2000));
const notJson = file('not.json', '{ "oops": ');
const labels100 = file('labels100.txt', Array.from({ length: 100 }, (_, i) => `class ${i}`).join('\n'));
const corruptModel = file('corrupt.tflite', 'not a flatbuffer');
const wrongSchema = file('wrong.json', JSON.stringify({ schemaVersion: 2, kind: 'bench' }));
const futureSchema = file('future.json', JSON.stringify({ schemaVersion: 99, kind: 'bench' }));
const missingClipCsv = file(
  'missing.csv',
  `${clip('arm_wrestling__mmaction2-demo.mp4')},arm wrestling\n${path.join(tmp, 'nope.mp4')},yoga\n`,
);
const badSuiteJson = file('bad-suite.json', '{ "description": ');
const badSuiteShape = file(
  'shape-suite.json',
  JSON.stringify({ description: 'x', steps: [{ name: 'a', command: 'rm', args: [] }] }),
);
const folder = dir('a-folder');
const emptyData = dir('empty-data');
const notExecutable = file('ffmpeg-not-exec', '#!/bin/sh\nexit 0\n');
fs.chmodSync(notExecutable, 0o644);

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** What the one line must say. */
  says: RegExp;
}

const out = (name: string) => path.join(tmp, 'out', `${name}.json`);
const underFile = path.join(regularFile, 'sub', 'r.json');

const CASES: Case[] = [
  // bench: every option with a bad value
  { name: 'bench --models empty', args: ['bench', '--models', ','], says: /comma-separated list/ },
  { name: 'bench --models unknown', args: ['bench', '--models', 'a9'], says: /unknown model 'a9'/ },
  { name: 'bench --models corrupt file', args: ['bench', '--models', corruptModel], says: /not a TFLite flatbuffer/ },
  { name: 'bench --backends unknown', args: ['bench', '--backends', 'nope'], says: /unknown backend 'nope'/ },
  { name: 'bench --threads 0', args: ['bench', '--threads', '0'], says: /--threads must be an integer/ },
  { name: 'bench --threads abc', args: ['bench', '--threads', 'abc'], says: /--threads must be an integer/ },
  {
    name: 'bench --threads above a WASM runtime',
    args: ['bench', '--backends', 'tfjs-tflite', '--threads', '2'],
    says: /at most 1 thread/,
  },
  { name: 'bench --frames 0', args: ['bench', '--frames', '0'], says: /--frames must be an integer/ },
  { name: 'bench --frames 1e9', args: ['bench', '--frames', '1e9'], says: /--frames must be an integer from 1 to/ },
  { name: 'bench --frames 2.5', args: ['bench', '--frames', '2.5'], says: /--frames must be an integer/ },
  { name: 'bench --warmup -1', args: ['bench', '--warmup', '-1'], says: /--warmup must be an integer/ },
  { name: 'bench --warmup huge', args: ['bench', '--warmup', '99999'], says: /--warmup must be an integer from 0 to/ },
  { name: 'bench --repeats 0', args: ['bench', '--repeats', '0'], says: /--repeats must be an integer/ },
  { name: 'bench --repeats 101', args: ['bench', '--repeats', '101'], says: /--repeats must be an integer/ },
  {
    name: 'bench frames x repeats',
    args: ['bench', '--frames', '100000', '--repeats', '100'],
    says: /at most 1000000 frames/,
  },
  { name: 'bench --input missing', args: ['bench', '--input', path.join(tmp, 'nope.mp4')], says: /does not exist/ },
  { name: 'bench --input empty', args: ['bench', '--input', emptyVideo], says: /empty/ },
  {
    name: 'bench --input undecodable',
    args: ['bench', '--input', brokenVideo, '--backends', 'tfjs-tflite'],
    says: /video|decode/,
  },
  { name: 'bench --percentiles 0', args: ['bench', '--percentiles', '0'], says: /between 0 and 100/ },
  { name: 'bench --percentiles 100', args: ['bench', '--percentiles', '100'], says: /between 0 and 100/ },
  { name: 'bench --percentiles abc', args: ['bench', '--percentiles', '50,abc'], says: /between 0 and 100/ },
  { name: 'bench --out under a file', args: ['bench', '--out', underFile], says: /is a file, not a directory/ },
  { name: 'bench --out a directory', args: ['bench', '--out', folder], says: /is a directory/ },
  { name: 'bench unknown flag', args: ['bench', '--bogus'], says: /unknown option/ },
  {
    name: 'bench with no models anywhere',
    args: ['bench', '--backends', 'onnxruntime'],
    env: { MOVINET_DATA_DIR: emptyData },
    says: /nothing ran: .*not found/,
  },
  // accuracy
  { name: 'accuracy without a dataset', args: ['accuracy'], says: /exactly one of --subset/ },
  {
    name: 'accuracy with both',
    args: ['accuracy', '--subset', 'kinetics-sample', '--dataset', missingClipCsv],
    says: /exactly one of --subset/,
  },
  { name: 'accuracy --subset unknown', args: ['accuracy', '--subset', 'nope'], says: /unknown subset 'nope'/ },
  {
    name: 'accuracy --dataset missing',
    args: ['accuracy', '--dataset', path.join(tmp, 'nope.csv')],
    says: /does not exist|unknown subset/,
  },
  {
    name: 'accuracy --dataset not JSON',
    args: ['accuracy', '--dataset', notJson],
    says: /not\.json.*(not valid JSON|JSON)/,
  },
  {
    name: 'accuracy --dataset names a missing clip',
    args: ['accuracy', '--dataset', missingClipCsv],
    says: /nope\.mp4/,
  },
  {
    name: 'accuracy --resize big',
    args: ['accuracy', '--subset', 'kinetics-sample', '--resize', 'big'],
    says: /--resize must be one of crop, squash/,
  },
  {
    name: 'accuracy --fps 0',
    args: ['accuracy', '--subset', 'kinetics-sample', '--fps', '0'],
    says: /--fps must be an integer/,
  },
  {
    name: 'accuracy --fps 61',
    args: ['accuracy', '--subset', 'kinetics-sample', '--fps', '61'],
    says: /--fps must be an integer/,
  },
  {
    name: 'accuracy --shard 2/2',
    args: ['accuracy', '--subset', 'kinetics-sample', '--shard', '2/2'],
    says: /--shard must be i\/n/,
  },
  {
    name: 'accuracy --shard x',
    args: ['accuracy', '--subset', 'kinetics-sample', '--shard', 'x'],
    says: /--shard must be i\/n/,
  },
  {
    name: 'accuracy --labels a folder',
    args: ['accuracy', '--subset', 'kinetics-sample', '--labels', folder],
    says: /is not a file/,
  },
  {
    name: 'accuracy --labels missing',
    args: ['accuracy', '--subset', 'kinetics-sample', '--labels', path.join(tmp, 'nope.txt')],
    says: /does not exist/,
  },
  {
    name: 'accuracy --labels of the wrong length for a model id',
    args: ['accuracy', '--subset', 'kinetics-sample', '--labels', labels100],
    says: /600 classes but the label file .* has 100/,
  },
  {
    name: 'accuracy --threads 0',
    args: ['accuracy', '--subset', 'kinetics-sample', '--threads', '0'],
    says: /--threads must be an integer/,
  },
  {
    name: 'accuracy --out under a file',
    args: ['accuracy', '--subset', 'kinetics-sample', '--out', underFile],
    says: /is a file, not a directory/,
  },
  // classify
  { name: 'classify without a video', args: ['classify'], says: /missing required argument/ },
  {
    name: 'classify --every 0',
    args: ['classify', ARM_WRESTLING, '--every', '0'],
    says: /--every must be a number above 0/,
  },
  {
    name: 'classify --every abc',
    args: ['classify', ARM_WRESTLING, '--every', 'abc'],
    says: /--every must be a number above 0/,
  },
  { name: 'classify --top 0', args: ['classify', ARM_WRESTLING, '--top', '0'], says: /--top must be an integer/ },
  { name: 'classify --top 601', args: ['classify', ARM_WRESTLING, '--top', '601'], says: /--top must be an integer/ },
  { name: 'classify --resize x', args: ['classify', ARM_WRESTLING, '--resize', 'x'], says: /--resize must be one of/ },
  { name: 'classify --model unknown', args: ['classify', ARM_WRESTLING, '--model', 'a9'], says: /unknown model 'a9'/ },
  {
    name: 'classify --backend unknown',
    args: ['classify', ARM_WRESTLING, '--backend', 'nope'],
    says: /unknown backend 'nope'/,
  },
  { name: 'classify a missing video', args: ['classify', path.join(tmp, 'nope.mp4')], says: /does not exist/ },
  { name: 'classify an empty video', args: ['classify', emptyVideo], says: /empty/ },
  { name: 'classify a folder', args: ['classify', folder], says: /not a file/ },
  { name: 'classify --labels a folder', args: ['classify', ARM_WRESTLING, '--labels', folder], says: /is not a file/ },
  {
    name: 'classify with ffmpeg not executable',
    args: ['classify', ARM_WRESTLING],
    env: { FFMPEG_PATH: notExecutable, FFPROBE_PATH: notExecutable },
    says: /ffmpeg|ffprobe/,
  },
  // models
  { name: 'models inspect unknown', args: ['models', 'inspect', 'a9'], says: /unknown model 'a9'/ },
  {
    name: 'models inspect missing file',
    args: ['models', 'inspect', path.join(tmp, 'nope.tflite')],
    says: /does not exist/,
  },
  { name: 'models inspect corrupt', args: ['models', 'inspect', corruptModel], says: /not a TFLite flatbuffer/ },
  {
    name: 'models convert --to tflite',
    args: ['models', 'convert', 'a0', '--to', 'tflite'],
    says: /--to must be one of onnx/,
  },
  {
    name: 'models convert --precision fp16',
    args: ['models', 'convert', 'a0', '--to', 'onnx', '--precision', 'fp16'],
    says: /--precision must be one of/,
  },
  { name: 'models convert without --to', args: ['models', 'convert', 'a0'], says: /required option '--to/ },
  {
    name: 'models convert --out under a file',
    args: ['models', 'convert', 'a0', '--to', 'onnx', '--out', underFile],
    says: /is a file, not a directory/,
  },
  { name: 'models fetch unknown', args: ['models', 'fetch', 'a9'], says: /unknown model|a9/ },
  // compare
  {
    name: 'compare a missing report',
    args: ['compare', path.join(tmp, 'nope.json'), path.join(tmp, 'nope.json')],
    says: /does not exist/,
  },
  { name: 'compare a non-JSON report', args: ['compare', notJson, notJson], says: /not valid JSON/ },
  {
    name: 'compare a report of the wrong shape',
    args: ['compare', wrongSchema, wrongSchema],
    says: /does not match the schema/,
  },
  { name: 'compare a report from the future', args: ['compare', futureSchema, futureSchema], says: /schemaVersion 99/ },
  { name: 'compare a folder', args: ['compare', folder, folder], says: /is a directory/ },
  {
    name: 'compare --threshold abc',
    args: ['compare', notJson, notJson, '--threshold', 'abc'],
    says: /--threshold must be a number/,
  },
  {
    name: 'compare --threshold -1',
    args: ['compare', notJson, notJson, '--threshold', '-1'],
    says: /--threshold must be a number/,
  },
  {
    name: 'compare --alpha 2',
    args: ['compare', notJson, notJson, '--alpha', '2'],
    says: /--alpha must be a number from 0 to 1/,
  },
  {
    name: 'compare --top1-tolerance 101',
    args: ['compare', notJson, notJson, '--top1-tolerance', '101'],
    says: /--top1-tolerance must be a number/,
  },
  // parity
  {
    name: 'parity --min-agreement 2',
    args: ['parity', '--min-agreement', '2'],
    says: /--min-agreement must be a number from 0 to 1/,
  },
  {
    name: 'parity --min-agreement abc',
    args: ['parity', '--min-agreement', 'abc'],
    says: /--min-agreement must be a number/,
  },
  {
    name: 'parity with one backend',
    args: ['parity', '--backends', 'tfjs-tflite'],
    says: /at least two different backends/,
  },
  {
    name: 'parity with a backend twice',
    args: ['parity', '--backends', 'tfjs-tflite,tfjs-tflite'],
    says: /at least two different backends/,
  },
  { name: 'parity --dataset unknown', args: ['parity', '--dataset', 'nope'], says: /unknown subset 'nope'/ },
  { name: 'parity --fps 0', args: ['parity', '--fps', '0'], says: /--fps must be an integer/ },
  {
    name: 'parity --locate in chromium',
    args: ['parity', '--target', 'chromium', '--locate'],
    says: /--locate reads both sessions' states .* --target node/,
  },
  {
    name: 'bench --target chromium on native onnxruntime',
    args: ['bench', '--target', 'chromium', '--backends', 'onnxruntime'],
    says: /onnxruntime is native onnxruntime-node, which has no browser build; in chromium use onnxruntime-web/,
  },
  {
    name: 'bench onnxruntime-web --threads 2',
    args: ['bench', '--backends', 'onnxruntime-web', '--threads', '2'],
    says: /at most 1 thread in Node/,
  },
  {
    name: 'accuracy --frame-cache-max 0',
    args: ['accuracy', '--frame-cache-max', '0'],
    says: /--frame-cache-max must be an integer/,
  },
  // report, merge, suite
  {
    name: 'report a missing report',
    args: ['report', path.join(tmp, 'nope.json'), '--out', path.join(tmp, 'out', 'r.html')],
    says: /does not exist/,
  },
  {
    name: 'report --out under a file',
    args: ['report', notJson, '--out', underFile],
    says: /is a file, not a directory/,
  },
  { name: 'reports merge without --out', args: ['reports', 'merge', notJson], says: /required option '--out/ },
  {
    name: 'reports merge a non-JSON report',
    args: ['reports', 'merge', notJson, '--out', out('merge-not-json')],
    says: /not\.json is not valid JSON/,
  },
  { name: 'suite unknown', args: ['suite', 'nope'], says: /unknown suite 'nope'/ },
  { name: 'suite file not JSON', args: ['suite', badSuiteJson], says: /bad-suite\.json is not valid JSON/ },
  { name: 'suite file of the wrong shape', args: ['suite', badSuiteShape], says: /shape-suite\.json is invalid/ },
];

/** Every file under the scratch folder, with its size and modification time: what a case may not change. */
function snapshot(dir = tmp): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(files, snapshot(p));
    else {
      const st = fs.lstatSync(p);
      files[path.relative(tmp, p)] = `${st.size} ${st.mtimeMs}`;
    }
  }
  return files;
}

/** The path a command line names with --out, if it names one. */
const outOf = (args: readonly string[]): string | undefined => {
  const at = args.indexOf('--out');
  return at < 0 ? undefined : args[at + 1];
};

/** Processes whose command line names our scratch folder: children a failed command may have left. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(tmp) && Number(pid) !== process.pid) found.push(`${pid}: ${cmd.slice(0, 120)}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

for (const c of CASES) {
  test.serial(`${c.name}: exit 2, one line, nothing written, no child left`, (t) => {
    const target = out(c.name.replace(/\W+/g, '-'));
    const takesOut = ['bench', 'accuracy', 'parity'].includes(c.args[0]!) && !c.args.includes('--out');
    const args = takesOut ? [...c.args, '--out', target] : c.args;
    const given = outOf(args);
    const existed = given !== undefined && fs.existsSync(given);
    const before = snapshot();
    const r = cli(args, c.env);
    t.is(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, c.says);
    // The --out this case was given (when it takes one) is not created, and nothing in the scratch folder,
    // where every input and output of the table lives, is written, changed or left behind (no .tmp either).
    if (given !== undefined && !existed) t.false(fs.existsSync(given), `no report is written to ${given}`);
    t.deepEqual(snapshot(), before, 'no file is written or changed');
    t.deepEqual(leftovers(), [], 'no child process is left running');
  });
}

test.serial('the table covers every command', (t) => {
  const commands = new Set(
    CASES.map((c) => (c.args[0] === 'models' || c.args[0] === 'reports' ? `${c.args[0]} ${c.args[1]}` : c.args[0])),
  );
  for (const cmd of [
    'bench',
    'accuracy',
    'classify',
    'compare',
    'parity',
    'report',
    'reports merge',
    'suite',
    'models inspect',
    'models convert',
    'models fetch',
  ]) {
    t.true(commands.has(cmd), cmd);
  }
  t.true(CASES.length >= 50);
});
