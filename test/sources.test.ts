import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { REAL_BEHAVIOUR, startSourceHosts, type HostBehaviour, type SourceHosts } from '../scripts/source-hosts.js';
import { dataDir } from '../src/util/paths.js';
import { cliAsync, isOneLineError, tempDir } from './helpers.js';

/**
 * The shipped source list (models/sources.json) with every host replaced by a local stand-in that answers as the
 * real one does (scripts/source-hosts.ts): no ../shared, an empty cache, what a user's first run has.
 */
const A0 = 'models/movinet_a0_stream_k600_int8.tflite';
const A0_SHA = '6125b36e2485eeb5cc1fd6206cf5e5d70235593fbc84610d1dce97fe3aa9c2ac';
const KAGGLE_A0 =
  'www.kaggle.com/api/v1/models/google/movinet/tfLite/a0-stream-kinetics-600-classification-tflite-int8/1/download';

let hosts: SourceHosts;
const root = tempDir('movinet-sources-');
const emptyData = path.join(root, 'no-data');
fs.mkdirSync(emptyData);

/** A server that takes connections and never answers: a host that does not respond within the idle time-out. */
const silent = http.createServer(() => undefined);
const silentSockets = new Set<net.Socket>();
silent.on('connection', (s) => {
  silentSockets.add(s);
  s.on('close', () => silentSockets.delete(s));
});
const silentUrl = () => `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/never/answers.tflite`;

test.before(async () => {
  hosts = await startSourceHosts(dataDir());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

test.after.always(async () => {
  await hosts.close();
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  fs.rmSync(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh folder under the test's root. */
function fresh(name: string): string {
  const dir = path.join(root, `${name}-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

interface Run {
  behaviour?: Partial<HostBehaviour>;
  /** Changes the rewritten list before the run: keep one source, put another first. */
  edit?: (list: Record<string, string[]>) => void;
  env?: Record<string, string>;
  cache?: string;
  data?: string;
}

/** The CLI against the stand-in hosts, with the list and host behaviour a case asks for. */
async function run(args: string[], opts: Run = {}) {
  Object.assign(hosts.behaviour, REAL_BEHAVIOUR, opts.behaviour);
  const cache = opts.cache ?? fresh('cache');
  const sources = hosts.writeSources(path.join(fresh('list'), 'sources.json'), opts.edit);
  const before = hosts.requests.length;
  const r = await cliAsync(args, {
    MOVINET_DATA_DIR: opts.data ?? emptyData,
    MOVINET_CACHE_DIR: cache,
    MOVINET_SOURCES: sources,
    NO_PROXY: '127.0.0.1',
    ...opts.env,
  });
  return { ...r, cache, asked: hosts.requests.slice(before) };
}

const only = (id: string, host: string) => (list: Record<string, string[]>) => {
  list[id] = list[id]!.filter((u) => u.includes(`/${host}/`));
};

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test.serial(
  "first run on a fresh machine (only Node on PATH): the README's main job gets A0 from the Kaggle API's tar.gz, verified, and runs",
  async (t) => {
    const out = path.join(fresh('out'), 'bench.json');
    // Node and nothing else on PATH (no ffmpeg, no Chromium): what a fresh macOS or Ubuntu machine has of ours.
    const bin = fresh('bin');
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = { PATH: bin, CHROMIUM_PATH: path.join(bin, 'no-chromium') };
    // The main job as README line 1 runs it, on fewer frames: scripts/check-package.sh runs it whole.
    const fewer = ['--frames', '30', '--warmup', '3', '--no-roofline'];
    const r = await run(['bench', '--models', 'a0', '--threads', '1', ...fewer, '--out', out], { env });
    t.is(r.code, 0, r.stderr);
    t.regex(
      r.stderr,
      /fetched model a0-int8 from http:\/\/127\.0\.0\.1:\d+\/www\.kaggle\.com\/api\/v1\/models\/google\/movinet\/tfLite\/a0-stream-kinetics-600-classification-tflite-int8\/1\/download \(1\.tflite of a tar\.gz archive\) into .* \(3\.3 MB, verified: sha256 and git blob\)/,
    );
    t.regex(r.stderr, /fetched label file kinetics600 from .*raw\.githubusercontent\.com\/tensorflow\/models\//);
    t.deepEqual(r.asked.slice(0, 2), [
      KAGGLE_A0,
      'storage.googleapis.com/kaggle-models-data/a0-stream-kinetics-600-classification-tflite-int8/1.tar.gz',
    ]);
    t.false(
      r.asked.some((a) => a.startsWith('tfhub.dev/')),
      'no later source is asked once one gave the file',
    );
    t.deepEqual(
      filesUnder(r.cache).filter((f) => f.startsWith('models/')),
      ['models/kinetics600_labels.txt', A0],
    );
    t.is(sha256(path.join(r.cache, A0)), A0_SHA);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      results: { backend: string; model: { verified: boolean; path: string; note?: string | null } }[];
    };
    t.true(report.results.length >= 3, 'the default backends ran');
    for (const row of report.results) t.like(row.model, { verified: true, path: path.join(r.cache, A0), note: null });
  },
);

test.serial('a source that fails is named and passed over: HTTP 500 after the redirect to storage', async (t) => {
  const r = await run(['models', 'fetch', 'a0'], { behaviour: { kaggle: 'server-error' } });
  t.is(r.code, 0, r.stderr);
  t.regex(
    r.stderr,
    /model a0-int8: passed over http:\/\/\S+\/www\.kaggle\.com\/\S+\/download: HTTP 500 Internal Server Error after a redirect to http:\/\/\S+\/storage\.googleapis\.com\/kaggle-models-data\/\S+\.tar\.gz\?X-Goog-Signature=x/,
  );
  t.regex(r.stderr, /fetched model a0-int8 from .*raw\.githubusercontent\.com\/tensorflow\/flutter-tflite\//);
  t.is(r.asked.filter((a) => a === KAGGLE_A0).length, 1, 'a 5xx is not retried while other sources remain');
  t.is(sha256(path.join(r.cache, A0)), A0_SHA);
});

/** Each way a real host fails, alone in the list: its own one line, exit 2, nothing kept. */
const failures: { title: string; id: string; host: string; behaviour: Partial<HostBehaviour>; says: RegExp }[] = [
  {
    title: 'an HTML page with status 200 (TF Hub)',
    id: 'a0-int8',
    host: 'tfhub.dev',
    behaviour: { tfhub: 'html' },
    says: /failed: an HTML page \(text\/html; charset=utf-8\), not the file; put /,
  },
  {
    title: 'an empty body (TF Hub)',
    id: 'a0-int8',
    host: 'tfhub.dev',
    behaviour: { tfhub: 'empty' },
    says: /failed: an empty body \(0 bytes\); put /,
  },
  {
    title: 'HTTP 500 after a redirect (TF Hub to Kaggle)',
    id: 'a0-int8',
    host: 'tfhub.dev',
    behaviour: { tfhub: 'server-error' },
    says: /failed: HTTP 500 Internal Server Error after a redirect to http:\/\/\S+\/www\.kaggle\.com\/models\/google\/movinet\/\S+\?tfhub-redirect=true \(3 attempts\); put /,
  },
  {
    title: 'an archive without a .tflite (Kaggle)',
    id: 'a0-int8',
    host: 'www.kaggle.com',
    behaviour: { kaggle: 'tar.gz-without-model' },
    says: /failed: a tar\.gz archive with no \.tflite file; put /,
  },
  {
    title: 'an archive with two .tflite files (Kaggle)',
    id: 'a0-int8',
    host: 'www.kaggle.com',
    behaviour: { kaggle: 'tar.gz-two-models' },
    says: /failed: a tar\.gz archive with 2 \.tflite files \((1\.tflite, 1_metadata\.tflite|1_metadata\.tflite, 1\.tflite)\); put /,
  },
  {
    title: 'bytes other than the pin (a raw-file host)',
    id: 'a1-int8',
    host: 'raw.githubusercontent.com',
    behaviour: {},
    says: /\(1\) http:\/\/\S+\/ThunderSoft-XA\/\S+\/movinet_a1_stream_int8\.tflite: git blob c293d449bce5…, expected 092638a980a4… \(corrupt or a different file\); \(2\)/,
  },
];

for (const f of failures) {
  test.serial(`a source answering ${f.title}: one line naming it and why, exit 2, nothing cached`, async (t) => {
    const r = await run(['models', 'fetch', f.id], { behaviour: f.behaviour, edit: only(f.id, f.host) });
    t.is(r.code, 2, r.stderr);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, f.says);
    t.deepEqual(filesUnder(r.cache), []);
  });
}

test.serial(
  'every source fails: one line naming each source and why, nothing cached, and the run keeps its other models',
  async (t) => {
    const r = await run(['models', 'fetch', 'a1']);
    t.is(r.code, 2);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(
      r.stderr,
      /^movinet-bench: error: model a1-int8: all 5 sources failed: \(1\) \S+\/www\.kaggle\.com\/\S+: 1\.tflite of a tar\.gz archive: git blob c293d449bce5…, expected 092638a980a4… \(corrupt or a different file\); \(2\) \S+ThunderSoft\S+: git blob .*; \(3\) \S+Private_teacher\S+: git blob .*; \(4\) \S+Android-Action-Classification\S+: git blob .*; \(5\) \S+tfhub\.dev\/\S+: an HTML page \(text\/html; charset=utf-8\), not the file; put movinet_a1_stream_k600_int8\.tflite in /,
    );
    t.deepEqual(filesUnder(r.cache), []);

    const out = path.join(fresh('out'), 'bench.json');
    const args = ['bench', '--models', 'a0,a1', '--backends', 'onnxruntime', '--frames', '5', '--warmup', '1'];
    const both = await run([...args, '--no-roofline', '--no-overhead', '--out', out]);
    t.is(both.code, 2, 'a missing model without --skip-missing');
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      results: { model: { id: string } }[];
      skipped: { model: string; reason: string }[];
    };
    t.deepEqual(
      report.results.map((x) => x.model.id),
      ['a0-int8'],
    );
    t.is(report.skipped.length, 1);
    t.is(report.skipped[0]!.model, 'a1-int8');
    t.regex(report.skipped[0]!.reason, /all 5 sources failed: .*git blob .*an HTML page/);
    t.deepEqual(
      filesUnder(both.cache).filter((f) => f.includes('a1')),
      [],
    );
  },
);

test.serial(
  'a source that does not answer within the idle time-out is passed over once while others remain',
  async (t) => {
    const env = { MOVINET_FETCH_TIMEOUT_MS: '700' };
    const first = (list: Record<string, string[]>) => list['a0-int8']!.unshift(silentUrl());
    const r = await run(['models', 'fetch', 'a0'], { env, edit: first });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /passed over http:\/\/127\.0\.0\.1:\d+\/never\/answers\.tflite: timed out: no data for 700 ms\n/);
    t.regex(r.stderr, /fetched model a0-int8 from \S+\/www\.kaggle\.com\//);

    // With nothing else that can answer, it is tried again after the others, up to the usual attempts.
    const alone = (list: Record<string, string[]>) => {
      list['a0-int8'] = [silentUrl(), ...list['a0-int8']!.filter((u) => u.includes('/tfhub.dev/'))];
    };
    const t0 = performance.now();
    const none = await run(['models', 'fetch', 'a0'], { env, edit: alone });
    t.is(none.code, 2);
    t.true(isOneLineError(none.stderr), none.stderr);
    t.regex(
      none.stderr,
      /all 2 sources failed: \(1\) \S+\/never\/answers\.tflite: timed out: no data for 700 ms \(3 attempts\); \(2\) \S+tfhub\.dev\S+: an HTML page/,
    );
    t.is(none.asked.filter((a) => a.startsWith('tfhub.dev/')).length, 1, 'an HTML page is not asked for again');
    t.true(performance.now() - t0 >= 3 * 700, 'three time-outs were waited for');
  },
);

test.serial(
  'an unpinned file is used only after the structural check, and reported unverified with its sha256',
  async (t) => {
    const garden = { modelGarden: 'a0-bytes' } as const;
    // A file at another resolution than the manifest's is no stream model this entry can drive: refused.
    const wrong = await run(['models', 'fetch', 'a2-float32'], { behaviour: garden });
    t.is(wrong.code, 2);
    t.true(isOneLineError(wrong.stderr), wrong.stderr);
    t.regex(
      wrong.stderr,
      /model a2-float32: the downloaded file takes 172x172 and gives 600 classes; the manifest says 224 and 600/,
    );
    t.deepEqual(filesUnder(wrong.cache), []);

    const ok = await run(['models', 'fetch', 'a0-float32'], { behaviour: garden });
    t.is(ok.code, 0, ok.stderr);
    t.regex(ok.stdout, new RegExp(`^a0-float32: .*, 3276048 bytes, sha256 ${A0_SHA}, unverified`));
    t.regex(
      ok.stderr,
      new RegExp(`sha256 ${A0_SHA}, unverified: the manifest pins nothing for it; it passed the structural check`),
    );
  },
);

test.serial('models verify checks every present file against its pins, wherever it was placed', async (t) => {
  const data = fresh('placed');
  fs.mkdirSync(path.join(data, 'models'));
  const a0 = fs.readFileSync(path.join(dataDir(), A0));
  fs.writeFileSync(path.join(data, A0), a0);
  fs.copyFileSync(
    path.join(dataDir(), 'models', 'kinetics600_labels.txt'),
    path.join(data, 'models', 'kinetics600_labels.txt'),
  );
  fs.writeFileSync(path.join(data, 'models', 'movinet_a0_stream_k600_float32.tflite'), a0);
  const good = await run(['models', 'verify', '--json'], { data });
  t.is(good.code, 0, good.stderr);
  const rows = JSON.parse(good.stdout) as { id: string; status: string; detail: string }[];
  const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
  t.like(status, { 'a0-int8': 'verified', kinetics600: 'verified', 'a0-float32': 'unverified', 'a1-int8': 'missing' });
  t.regex(rows.find((r) => r.id === 'a0-float32')!.detail, new RegExp(`sha256 ${A0_SHA}`));
  t.deepEqual(good.asked, [], 'verify downloads nothing');

  // A placed A1 that is not the pinned file fails, and the command says so with exit 1.
  fs.writeFileSync(path.join(data, 'models', 'movinet_a1_stream_k600_int8.tflite'), a0);
  const bad = await run(['models', 'verify', '--json'], { data });
  t.is(bad.code, 1);
  const a1 = (JSON.parse(bad.stdout) as { id: string; status: string; detail: string }[]).find(
    (r) => r.id === 'a1-int8',
  );
  t.like(a1, { status: 'failed' });
  t.regex(a1!.detail, /git blob c293d449bce5…, expected 092638a980a4…/);
});

test.serial(
  "models sources lists each file's sources in the order tried, MOVINET_MIRROR first, and its pins",
  async (t) => {
    const r = await run(['models', 'sources', 'a0', '--json']);
    t.is(r.code, 0, r.stderr);
    const [a0] = JSON.parse(r.stdout) as { id: string; pins: Record<string, unknown>; sources: string[] }[];
    t.like(a0, {
      id: 'a0-int8',
      pins: { sha256: A0_SHA, gitBlob: 'c293d449bce5bc3abeac2b46ab1f5718c6bc4c57', bytes: 3276048 },
    });
    t.regex(a0!.sources[0]!, /\/www\.kaggle\.com\//);
    t.regex(a0!.sources.at(-1)!, /\/tfhub\.dev\//);

    const mirror = 'http://127.0.0.1:9/site';
    const mirrored = await run(['models', 'sources', 'a1', '--json'], { env: { MOVINET_MIRROR: mirror } });
    const [a1] = JSON.parse(mirrored.stdout) as { sources: string[] }[];
    t.is(a1!.sources[0], `${mirror}/models/movinet_a1_stream_k600_int8.tflite`);
    t.is(a1!.sources.length, 6);

    const all = await run(['models', 'sources']);
    t.is(all.code, 0, all.stderr);
    for (const id of ['a0-int8', 'a1-int8', 'a2-int8', 'a0-float16', 'a2-float32', 'kinetics600'])
      t.regex(all.stdout, new RegExp(`^${id} `, 'm'));
    t.notRegex(all.stdout, /a0-arch/);
  },
);

test.serial('a bad MOVINET_SOURCES or model id: one line, exit 2', async (t) => {
  const dir = fresh('bad-lists');
  const cases: [string, string, RegExp][] = [
    ['unknown-id.json', '{"a9-int8": ["http://127.0.0.1:9/x"]}', /names 'a9-int8', which is no model or label set/],
    ['not-json.json', '{', /cannot be read as JSON/],
    ['not-urls.json', '{"a0-int8": ["ftp://x/y"]}', /'a0-int8' must be a list of http\(s\) URLs/],
    ['not-object.json', '[]', /must be an object/],
  ];
  for (const [name, body, says] of cases) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, body);
    const r = await cliAsync(['models', 'fetch', 'a0'], {
      MOVINET_DATA_DIR: emptyData,
      MOVINET_CACHE_DIR: fresh('c'),
      MOVINET_SOURCES: file,
    });
    t.is(r.code, 2, name);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, says, name);
  }
  const unknown = await run(['models', 'sources', 'a9']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown model or label set 'a9'/);
  const arch = await run(['models', 'sources', 'a1-arch']);
  t.is(arch.code, 2);
  t.regex(arch.stderr, /a1-arch is built, not downloaded/);
});

test.serial(
  'models fetch --all: every file that can be had is fetched; the rest fail in their own lines, exit 2',
  async (t) => {
    const r = await run(['models', 'fetch', '--all', '--json']);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, /^movinet-bench: 6 file\(s\) could not be fetched \(exit 2\)$/m);
    const out = JSON.parse(r.stdout) as {
      fetched: { id: string; verified: boolean }[];
      failed: { id: string; reason: string }[];
    };
    // Kaggle's stand-in serves A0's int8 bytes for every variation: the pinned files refuse them, while the
    // unpinned float16 ones at A0's and A1's resolution pass the structural check and are kept, unverified.
    const verified = Object.fromEntries(out.fetched.map((f) => [f.id, f.verified]));
    t.deepEqual(verified, { 'a0-int8': true, 'a0-float16': false, 'a1-float16': false, kinetics600: true });
    const reasons = Object.fromEntries(out.failed.map((f) => [f.id, f.reason]));
    t.deepEqual(Object.keys(reasons).sort(), [
      'a0-float32',
      'a1-float32',
      'a1-int8',
      'a2-float16',
      'a2-float32',
      'a2-int8',
    ]);
    t.regex(reasons['a2-int8']!, /all 5 sources failed/);
    t.regex(reasons['a2-float16']!, /takes 172x172 .* the manifest says 224/);
    t.regex(reasons['a0-float32']!, /HTTP 404/);
    t.deepEqual(
      filesUnder(r.cache).filter((f) => f.startsWith('models/')),
      [
        'models/kinetics600_labels.txt',
        'models/movinet_a0_stream_k600_float16.tflite',
        A0,
        'models/movinet_a1_stream_k600_float16.tflite',
      ],
    );
  },
);
