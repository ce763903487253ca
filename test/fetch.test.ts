import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { proxyFor } from '../src/util/http-get.js';
import { dataDir, PROJECT_ROOT } from '../src/util/paths.js';
import { cliAsync, isOneLineError, tempDir } from './helpers.js';

/**
 * A mirror of ../shared on 127.0.0.1, laid out as MOVINET_MIRROR expects (`<base>/models/<file>`,
 * `<base>/datasets/kinetics-sample/<file>`). The first path segment picks the behaviour, so each test points
 * MOVINET_MIRROR at its own fault: /ok/..., /404/..., /stall/..., /cut/..., /corrupt/..., and so on.
 */
const SHARED = dataDir();
// Each case spawns the CLI; one at a time keeps the 2-core machine (and the time-out figures) predictable.
const A0 = 'models/movinet_a0_stream_k600_int8.tflite';
const LABELS = 'models/kinetics600_labels.txt';
const A0_SHA = '6125b36e2485eeb5cc1fd6206cf5e5d70235593fbc84610d1dce97fe3aa9c2ac';
const SAMPLE = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, 'datasets', 'kinetics-sample', 'manifest.json'), 'utf8'),
) as { clips: { file: string; sha256: string; bytes: number }[] };

const requests: string[] = [];
/** When each request arrived (performance.now()), beside `requests`. */
const arrivals: number[] = [];
/** Requests that came as a forward proxy's absolute-form `GET http://host/path`. */
const proxied: string[] = [];
const tunnels: string[] = [];
const flakyOnce = new Set<string>();
const sockets = new Set<net.Socket>();

function sharedFile(rel: string): string | null {
  const file = path.resolve(SHARED, rel);
  if (!file.startsWith(SHARED + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
  return file;
}

const server = http.createServer((req, res) => {
  if (req.url?.startsWith('http://')) proxied.push(req.url);
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(url.pathname);
  arrivals.push(performance.now());
  const [, mode = '', ...rest] = url.pathname.split('/');
  const rel = rest.map(decodeURIComponent).join('/');
  // 'a0-as-any' stands in for models ../shared lacks (A1, A2): any .tflite asked for is A0's file.
  const file = sharedFile(mode === 'a0-as-any' && rel.endsWith('.tflite') ? A0 : rel);
  if (mode === 'html') {
    // What a hub's login or error page looks like to a downloader: a 200 that is not the file.
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Sign in</title>');
    return;
  }
  if (mode === '404' || !file) {
    res.writeHead(404).end('not found');
    return;
  }
  const bytes = fs.readFileSync(file);
  switch (mode) {
    case 'ok':
    case 'a0-as-any':
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      return;
    case 'close':
      // As an HTTP/1.0 server (python3 -m http.server) does: the connection ends right after the body.
      res.writeHead(200, { 'content-length': bytes.length, connection: 'close' }).end(bytes);
      return;
    case 'flaky':
      // Fails once per file with a 503, then serves it: a retry must get through.
      if (!flakyOnce.has(rel)) {
        flakyOnce.add(rel);
        res.writeHead(503).end('busy');
        return;
      }
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      return;
    case 'corrupt': {
      const bad = Buffer.from(bytes);
      const mid = bad.length >> 1;
      bad.writeUInt8(bad.readUInt8(mid) ^ 0xff, mid);
      res.writeHead(200, { 'content-length': bad.length }).end(bad);
      return;
    }
    case 'stall':
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 1000));
      return;
    case 'stallhead':
      return;
    case 'cut':
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.destroy());
      return;
    case 'big':
      // No length announced, and more bytes than the file has: only the size cap can stop it.
      res.writeHead(200);
      res.write(bytes);
      res.end(Buffer.alloc(bytes.length));
      return;
    case 'bigheader':
      res.writeHead(200, { 'content-length': 10 ** 9 });
      res.write(bytes.subarray(0, 1000));
      return;
    default:
      res.writeHead(404).end();
  }
});
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
// Also a forward proxy: absolute-form requests are served above; CONNECT host:port is recorded and tunnelled here.
server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  tunnels.push(req.url ?? '');
  const upstream = net.connect(port(), '127.0.0.1', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
});

const port = () => (server.address() as net.AddressInfo).port;
const mirror = (mode: string) => `http://127.0.0.1:${port()}/${mode}`;

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

test.after.always(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(root, { recursive: true, force: true });
});

const root = tempDir('movinet-fetch-');

/** An empty folder of its own, for a data dir or a cache. */
function freshCache(name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** No ../shared: what a user who has just cloned the project has. */
const emptyData = freshCache('no-data');

/** Every file under a folder, dotfiles (temporary downloads) included. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

const requestsFor = (mode: string) => requests.filter((r) => r.startsWith(`/${mode}/`));

/** No listed source: each case here fetches from its own MOVINET_MIRROR alone (test/sources.test.ts tries lists). */
const noSources = path.join(root, 'no-sources.json');
fs.writeFileSync(noSources, '{}');

/** The built CLI with no ../shared and no listed source; a case adds its mirror and cache. */
function cli(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { onSpawn?: (kill: (s: NodeJS.Signals) => void) => void } = {},
): ReturnType<typeof cliAsync> {
  return cliAsync(
    args,
    { MOVINET_DATA_DIR: emptyData, NO_PROXY: '127.0.0.1', MOVINET_SOURCES: noSources, ...env },
    opts,
  );
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test.serial(
  'first use: A0 and its labels are fetched from the mirror, verified, cached; a bench runs on it; no second download',
  async (t) => {
    const cache = freshCache('first-use');
    const env = { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('ok') };
    const out = path.join(root, 'bench.json');
    const args = [
      'bench',
      '--models',
      'a0',
      '--backends',
      'onnxruntime',
      '--frames',
      '5',
      '--warmup',
      '1',
      '--no-overhead',
      '--no-roofline',
    ];
    const r = await cli([...args, '--out', out], env);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(requestsFor('ok').sort(), [`/ok/${LABELS}`, `/ok/${A0}`]);
    t.regex(
      r.stderr,
      /fetched model a0-int8 from http:\/\/127\.0\.0\.1:\d+\/ok\/models\/movinet_a0_stream_k600_int8\.tflite into .*\(3\.3 MB, verified: sha256 and git blob\)/,
    );
    t.is(sha256(path.join(cache, A0)), A0_SHA);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      results: { model: { path: string; sha256: string; verified: boolean } }[];
    };
    t.is(report.results[0]!.model.path, path.join(cache, A0));
    t.is(report.results[0]!.model.sha256, A0_SHA);
    t.true(report.results[0]!.model.verified);

    const again = await cli([...args, '--out', out], env);
    t.is(again.code, 0, again.stderr);
    t.is(requestsFor('ok').length, 2, 'the cached model and labels are not downloaded again');
    t.notRegex(again.stderr, /fetched/);

    const list = await cli(['models', '--json'], env);
    t.is(list.code, 0, list.stderr);
    const a0 = (JSON.parse(list.stdout) as { id: string; origin: string; status: string }[]).find(
      (m) => m.id === 'a0-int8',
    );
    t.like(a0, { status: 'available', origin: 'cache' });
  },
);

test.serial(
  'datasets fetch kinetics-sample: every clip from the mirror, sha256 verified, then read from the cache',
  async (t) => {
    const cache = freshCache('sample');
    const env = { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('ok') };
    const before = requestsFor('ok').length;
    const r = await cli(['datasets', 'fetch', 'kinetics-sample', '--json'], env);
    t.is(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { dir: string; fetched: number; clips: { path: string; status: string }[] };
    t.is(result.fetched, 22);
    t.is(result.dir, path.join(cache, 'datasets', 'kinetics-sample'));
    t.is(requestsFor('ok').length - before, 22);
    for (const c of SAMPLE.clips) {
      const file = path.join(cache, c.file);
      t.is(fs.statSync(file).size, c.bytes, c.file);
      t.is(sha256(file), c.sha256, c.file);
    }
    t.deepEqual(
      filesUnder(cache).filter((f) => f.includes('.part')),
      [],
    );

    const again = await cli(['datasets', 'fetch', 'kinetics-sample'], env);
    t.is(again.code, 0, again.stderr);
    t.regex(again.stdout, /22 clips in .*sha256 verified \(all already there\)/);
    t.is(requestsFor('ok').length - before, 22, 'a complete, verified cache is not downloaded again');

    // A clip damaged in the cache is this tool's own: it is removed and fetched again.
    const damaged = path.join(cache, SAMPLE.clips[3]!.file);
    fs.writeFileSync(damaged, 'not a video');
    const repaired = await cli(['datasets', 'fetch', 'kinetics-sample', '--json'], env);
    t.is(repaired.code, 0, repaired.stderr);
    t.is((JSON.parse(repaired.stdout) as { fetched: number }).fetched, 1);
    t.is(sha256(damaged), SAMPLE.clips[3]!.sha256);

    // Offline, a damaged cached clip is still removed, and the run stops with one line.
    fs.writeFileSync(damaged, 'not a video');
    const offline = await cli(['--offline', 'accuracy', '--subset', 'kinetics-sample'], env);
    t.is(offline.code, 2);
    t.true(isOneLineError(offline.stderr), offline.stderr);
    t.regex(offline.stderr, /1 of 22 clips missing .*offline/);
    t.false(fs.existsSync(damaged));
  },
);

test.serial('accuracy --subset kinetics-sample fetches the missing clips and the model by itself', async (t) => {
  const cache = freshCache('accuracy');
  const env = { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('ok') };
  const out = path.join(root, 'accuracy.json');
  const r = await cli(
    ['accuracy', '--subset', 'kinetics-sample', '--shard', '0/22', '--backends', 'tfjs-tflite', '--out', out],
    env,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /fetched 22 clip\(s\) of kinetics-sample into .*sha256 verified/);
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    config: { dataset: { clips: number } };
    runs: { clips: { file: string }[]; model: { path: string } }[];
  };
  t.is(report.config.dataset.clips, 1);
  t.is(report.runs[0]!.model.path, path.join(cache, A0));
  // Clip names are relative to the subset's folder wherever it is, so reports from the cache and ../shared compare.
  t.deepEqual(
    report.runs[0]!.clips.map((c) => c.file),
    ['archery__PaddleVideo-example.avi'],
  );
});

test.serial(
  'a model the manifest pins nothing for is fetched after the structural check, loads, and is reported unverified with its hash',
  async (t) => {
    const cache = freshCache('unpinned');
    const env = { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('a0-as-any') };
    const out = path.join(root, 'a0-float32.json');
    const r = await cli(
      [
        'bench',
        '--models',
        'a0-float32',
        '--backends',
        'onnxruntime',
        '--frames',
        '3',
        '--warmup',
        '0',
        '--no-overhead',
        '--no-roofline',
        '--out',
        out,
      ],
      env,
    );
    t.is(r.code, 0, r.stderr);
    t.regex(
      r.stderr,
      new RegExp(
        `fetched model a0-float32 from .* \\(3\\.3 MB, sha256 ${A0_SHA}, unverified: the manifest pins nothing for it; it passed the structural check\\)`,
      ),
    );
    const model = (JSON.parse(fs.readFileSync(out, 'utf8')) as { results: { model: Record<string, unknown> }[] })
      .results[0]!.model;
    t.like(model, {
      id: 'a0-float32',
      verified: false,
      sha256: A0_SHA,
      path: path.join(cache, 'models', 'movinet_a0_stream_k600_float32.tflite'),
      note: `unverified: the manifest pins nothing for this file; sha256 ${A0_SHA}`,
    });
    t.regex(r.stdout, new RegExp(`note a0-float32: unverified: .*sha256 ${A0_SHA}`), 'the table says it too');

    // A hub's HTML page with status 200 is refused and not kept.
    const html = freshCache('html');
    const page = await cli(['models', 'fetch', 'a2'], { MOVINET_CACHE_DIR: html, MOVINET_MIRROR: mirror('html') });
    t.is(page.code, 2);
    t.true(isOneLineError(page.stderr), page.stderr);
    t.regex(page.stderr, /model a2-int8: downloading it from .* failed: an HTML page \(text\/html\), not the file;/);
    t.false(fs.existsSync(path.join(html, 'models', 'movinet_a2_stream_k600_int8.tflite')));
  },
);

test.serial('a corrupted download (sha256 mismatch) is refused and nothing is left in the cache', async (t) => {
  const cache = freshCache('corrupt');
  const r = await cli(['models', 'fetch', 'a0'], { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('corrupt') });
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(
    r.stderr,
    /model a0-int8: downloading it from .*\/corrupt\/models\/movinet_a0_stream_k600_int8\.tflite failed: sha256 [0-9a-f]{12}…, expected 6125b36e2485…/,
  );
  t.regex(r.stderr, /put movinet_a0_stream_k600_int8\.tflite in /);
  t.deepEqual(filesUnder(cache), []);
  t.is(requestsFor('corrupt').filter((p) => p.endsWith('.tflite')).length, 1, 'a checksum mismatch is not retried');

  const clips = await cli(['datasets', 'fetch', 'kinetics-sample'], {
    MOVINET_CACHE_DIR: cache,
    MOVINET_MIRROR: mirror('corrupt'),
  });
  t.is(clips.code, 2);
  t.true(isOneLineError(clips.stderr), clips.stderr);
  t.regex(clips.stderr, /subset kinetics-sample: clip .* missing; downloading it from .* failed: sha256 .*expected/);
  t.deepEqual(filesUnder(cache), []);
});

test.serial('a damaged model in the cache is replaced; one the user placed is never touched', async (t) => {
  const cache = freshCache('damaged-model');
  fs.mkdirSync(path.join(cache, 'models'));
  fs.writeFileSync(path.join(cache, A0), 'garbage');
  const r = await cli(['models', 'fetch', 'a0', '--json'], { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('ok') });
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { id: 'a0-int8', verified: true, alreadyPresent: false, sha256: A0_SHA });
  t.is(sha256(path.join(cache, A0)), A0_SHA);

  const userData = path.join(root, 'user-data');
  fs.mkdirSync(path.join(userData, 'models'), { recursive: true });
  fs.writeFileSync(path.join(userData, A0), 'the user put this here');
  const mine = await cli(['models', 'fetch', 'a0'], {
    MOVINET_DATA_DIR: userData,
    MOVINET_CACHE_DIR: cache,
    MOVINET_MIRROR: mirror('ok'),
  });
  t.is(mine.code, 2);
  t.true(isOneLineError(mine.stderr), mine.stderr);
  t.regex(mine.stderr, /has sha256 .* expected 6125b36e2485/);
  t.is(fs.readFileSync(path.join(userData, A0), 'utf8'), 'the user put this here');
});

test.serial('a 404: one line naming the file, the URL and where to put it, exit 2, not retried', async (t) => {
  const cache = freshCache('404');
  const r = await cli(['classify', path.join(SHARED, SAMPLE.clips[0]!.file), '--model', 'a0'], {
    MOVINET_CACHE_DIR: cache,
    MOVINET_MIRROR: mirror('404'),
  });
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(
    r.stderr,
    /model a0-int8: file movinet_a0_stream_k600_int8\.tflite not found \(looked in .*\); downloading it from http:\/\/127\.0\.0\.1:\d+\/404\/models\/movinet_a0_stream_k600_int8\.tflite failed: HTTP 404 Not Found; put movinet_a0_stream_k600_int8\.tflite in .*no-data\/models or .*404\/models$/m,
  );
  t.is(requestsFor('404').filter((p) => p.endsWith('.tflite')).length, 1);
  t.deepEqual(filesUnder(cache), []);
});

test.serial(
  'a server that stalls mid-file or before answering: timed out, retried, one line, exit 2, nothing left',
  async (t) => {
    for (const mode of ['stall', 'stallhead']) {
      const cache = freshCache(mode);
      const r = await cli(['models', 'fetch', 'a0'], {
        MOVINET_CACHE_DIR: cache,
        MOVINET_MIRROR: mirror(mode),
        MOVINET_FETCH_TIMEOUT_MS: '700',
      });
      t.is(r.code, 2, mode);
      t.true(isOneLineError(r.stderr), r.stderr);
      t.regex(r.stderr, /failed: timed out: no data for 700 ms \(3 attempts\)/);
      t.is(requestsFor(mode).length, 3, mode);
      // Each attempt ended at the configured idle time-out, not the default one: the gaps between the attempts'
      // arrivals are that time-out plus a back-off, far below the default's 30 s.
      const at = requests.flatMap((p, i) => (p.startsWith(`/${mode}/`) ? [arrivals[i]!] : []));
      const gaps = at.slice(1).map((a, i) => a - at[i]!);
      t.true(
        gaps.every((g) => g >= 700 && g < 10_000),
        `${mode}: gaps ${gaps.map(Math.round).join(', ')} ms`,
      );
      t.deepEqual(filesUnder(cache), [], mode);
    }
  },
);

test.serial('a connection cut mid-file: retried, then one line, exit 2, no partial file', async (t) => {
  const cache = freshCache('cut');
  const r = await cli(['models', 'fetch', 'a0'], { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('cut') });
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /failed: connection cut after \d+ of 3276048 bytes.*\(3 attempts\)/);
  t.is(requestsFor('cut').length, 3);
  t.deepEqual(filesUnder(cache), []);
});

test.serial(
  'a server that closes the connection after each body (HTTP/1.0 style) serves the whole sample',
  async (t) => {
    const cache = freshCache('close');
    const r = await cli(['datasets', 'fetch', 'kinetics-sample', '--json'], {
      MOVINET_CACHE_DIR: cache,
      MOVINET_MIRROR: mirror('close'),
    });
    t.is(r.code, 0, r.stderr);
    t.is((JSON.parse(r.stdout) as { fetched: number }).fetched, 22);
  },
);

test.serial('a 503 is retried and the next attempt succeeds', async (t) => {
  const cache = freshCache('flaky');
  const r = await cli(['models', 'fetch', 'a0'], { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('flaky') });
  t.is(r.code, 0, r.stderr);
  t.is(requestsFor('flaky').filter((p) => p.endsWith('.tflite')).length, 2);
  t.is(sha256(path.join(cache, A0)), A0_SHA);
});

test.serial('the size cap: a body longer than the pinned size, or an announced size over it, is refused', async (t) => {
  for (const mode of ['big', 'bigheader']) {
    const cache = freshCache(mode);
    const r = await cli(['models', 'fetch', 'a0'], { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror(mode) });
    t.is(r.code, 2, mode);
    t.true(isOneLineError(r.stderr), r.stderr);
    // The cap is the pinned size plus the room an archive around the file needs.
    t.regex(r.stderr, /over the 4\.3 MB limit|more than 4\.3 MB, over the limit/);
    t.deepEqual(filesUnder(cache), [], mode);
  }
});

test.serial(
  '--offline (or MOVINET_OFFLINE=1) with nothing cached: one line naming what is missing and where to put it, no request',
  async (t) => {
    const cache = freshCache('offline');
    const before = requests.length;
    const r = await cli(['bench', '--models', 'a0', '--frames', '5', '--offline'], {
      MOVINET_CACHE_DIR: cache,
      MOVINET_MIRROR: mirror('ok'),
    });
    t.is(r.code, 2);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(
      r.stderr,
      /file movinet_a0_stream_k600_int8\.tflite not found \(looked in .*\); offline \(--offline or MOVINET_OFFLINE=1\), so it was not fetched from http:\/\/127\.0\.0\.1:\d+\/ok\/models\/movinet_a0_stream_k600_int8\.tflite; put movinet_a0_stream_k600_int8\.tflite in .*no-data\/models or .*offline\/models/,
    );
    const clips = await cli(['datasets', 'fetch', 'kinetics-sample'], {
      MOVINET_CACHE_DIR: cache,
      MOVINET_MIRROR: mirror('ok'),
      MOVINET_OFFLINE: '1',
    });
    t.is(clips.code, 2);
    t.true(isOneLineError(clips.stderr), clips.stderr);
    t.regex(clips.stderr, /22 of 22 clips missing .*offline .*put them in .*no-data\/datasets\/kinetics-sample/);
    t.is(requests.length, before, 'offline never touches the network');
    t.deepEqual(filesUnder(cache), []);
  },
);

test.serial(
  'proxies: HTTP(S)_PROXY is used for hosts not in NO_PROXY, and NO_PROXY keeps 127.0.0.1 direct',
  async (t) => {
    const cache = freshCache('proxy');
    // The mirror's host exists only through the proxy, which is the local server itself.
    const viaProxy = await cli(['models', 'fetch', 'a0'], {
      MOVINET_CACHE_DIR: cache,
      MOVINET_MIRROR: 'http://mirror.invalid/ok',
      HTTP_PROXY: `http://127.0.0.1:${port()}`,
    });
    t.is(viaProxy.code, 0, viaProxy.stderr);
    t.true(proxied.includes(`http://mirror.invalid/ok/${A0}`), proxied.join(', '));
    t.is(sha256(path.join(cache, A0)), A0_SHA);

    // NO_PROXY=127.0.0.1: a proxy that does not exist is never asked.
    const direct = await cli(['models', 'fetch', 'a0'], {
      MOVINET_CACHE_DIR: freshCache('no-proxy'),
      MOVINET_MIRROR: mirror('ok'),
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
    });
    t.is(direct.code, 0, direct.stderr);

    // An https source goes to HTTPS_PROXY as a CONNECT; the tunnel reaches a plain HTTP server, so TLS fails.
    const tls = await cli(['models', 'fetch', 'a0'], {
      MOVINET_CACHE_DIR: freshCache('https-proxy'),
      MOVINET_MIRROR: 'https://secure-mirror.invalid/ok',
      HTTPS_PROXY: `http://127.0.0.1:${port()}`,
    });
    t.is(tls.code, 2);
    t.true(isOneLineError(tls.stderr), tls.stderr);
    t.true(tunnels.includes('secure-mirror.invalid:443'), tunnels.join(', '));
  },
);

test.serial('an interrupted download (SIGINT) leaves neither the file nor its temporary file', async (t) => {
  const cache = freshCache('sigint');
  const r = await cli(
    ['models', 'fetch', 'a0'],
    { MOVINET_CACHE_DIR: cache, MOVINET_MIRROR: mirror('stall'), MOVINET_FETCH_TIMEOUT_MS: '60000' },
    {
      onSpawn: (kill) => {
        const poll = setInterval(() => {
          // Once the stalled response has started, the temporary file exists.
          if (filesUnder(cache).some((f) => f.endsWith('.part'))) {
            clearInterval(poll);
            kill('SIGINT');
          }
        }, 50);
      },
    },
  );
  t.is(r.signal, 'SIGINT', `${r.code} ${r.stderr}`);
  t.deepEqual(filesUnder(cache), []);
});

test.serial('MOVINET_MIRROR that is not an http(s) URL: one line, exit 2', async (t) => {
  const r = await cli(['models', 'fetch', 'a0'], {
    MOVINET_CACHE_DIR: freshCache('bad-mirror'),
    MOVINET_MIRROR: 'ftp://x',
  });
  t.is(r.code, 2);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /MOVINET_MIRROR=ftp:\/\/x must be an http/);
});

test.serial('NO_PROXY is read as curl and undici read it: suffixes, ports, and *', (t) => {
  const saved = { ...process.env };
  try {
    for (const k of Object.keys(process.env))
      if (/^(https?|no)_proxy$/i.test(k)) Reflect.deleteProperty(process.env, k);
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    process.env.HTTP_PROXY = 'proxy.corp:8080';
    process.env.NO_PROXY = '.internal.corp, localhost:8080 127.0.0.1';
    const via = (url: string) => proxyFor(new URL(url))?.href ?? null;
    t.is(via('https://raw.githubusercontent.com/x'), 'http://proxy.corp:3128/');
    t.is(via('http://mirror.example/x'), 'http://proxy.corp:8080/');
    t.is(via('https://a.internal.corp/x'), null);
    t.is(via('https://internal.corp/x'), null);
    t.is(via('http://localhost:8080/x'), null);
    t.is(via('http://localhost:9090/x'), 'http://proxy.corp:8080/');
    t.is(via('http://127.0.0.1:4000/x'), null);
    process.env.NO_PROXY = '*';
    t.is(via('https://raw.githubusercontent.com/x'), null);
    delete process.env.NO_PROXY;
    delete process.env.HTTPS_PROXY;
    t.is(via('https://raw.githubusercontent.com/x'), 'http://proxy.corp:8080/', 'https falls back to HTTP_PROXY');
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) Reflect.deleteProperty(process.env, k);
    Object.assign(process.env, saved);
  }
});
