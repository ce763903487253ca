import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { decodeFrames } from '../src/video/decode.js';
import { ffmpegPath, ffmpegVersion } from '../src/video/ffmpeg.js';
import { evict, type FrameCacheOptions } from '../src/video/frame-cache.js';
import { collect } from '../src/video/frames.js';
import { ARM_WRESTLING, clip, tempDir } from './helpers.js';

const spec = { size: 172, fps: 5, resize: 'crop' } as const;
const frameBytes = 172 * 172 * 3;

function cache(): FrameCacheOptions {
  return {
    dir: tempDir('movinet-frames-'),
    maxBytes: 1 << 30,
    ffmpegVersion: ffmpegVersion(),
  };
}
const entries = (c: FrameCacheOptions) => fs.readdirSync(c.dir).filter((f) => f.endsWith('.rgb24'));

test('a clip decoded once is read back from the cache with the very same frames', async (t) => {
  const c = cache();
  const first = decodeFrames(ARM_WRESTLING, { ...spec, frameCache: c });
  const decoded = await collect(first);
  // The whole ten-second clip at 5 fps: the frame-by-frame equality below then covers every frame.
  t.is(decoded.length, 50);
  t.is(await first.source, 'ffmpeg');
  t.deepEqual(entries(c).length, 1);
  t.is(fs.statSync(path.join(c.dir, entries(c)[0]!)).size, decoded.length * frameBytes);
  const again = decodeFrames(ARM_WRESTLING, { ...spec, frameCache: c });
  const cached = await collect(again);
  t.is(await again.source, 'cache');
  t.is(await again.pid, null);
  t.is(cached.length, decoded.length);
  cached.forEach((f, i) => t.true(Buffer.from(f.buffer).equals(Buffer.from(decoded[i]!.buffer)), `frame ${i}`));
  // Another decode spec is another entry.
  await collect(decodeFrames(ARM_WRESTLING, { ...spec, resize: 'squash', frameCache: c }));
  t.is(entries(c).length, 2);
});

test('nothing is cached from a stream cut short or a damaged file, and a bad entry is decoded again', async (t) => {
  const c = cache();
  t.is((await collect(decodeFrames(ARM_WRESTLING, { ...spec, maxFrames: 3, frameCache: c }))).length, 3);
  t.deepEqual(entries(c), []);
  const half = path.join(c.dir, 'half.mp4');
  const bytes = fs.readFileSync(clip('tai_chi__mmskeleton-ta_chi.mp4'));
  fs.writeFileSync(half, bytes.subarray(0, bytes.length >> 1));
  await t.throwsAsync(() => collect(decodeFrames(half, { ...spec, frameCache: c })), { message: /truncated|decode/ });
  t.deepEqual(entries(c), []);
  t.deepEqual(
    fs.readdirSync(c.dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  // An entry that is not whole frames is dropped and the clip decoded afresh.
  await collect(decodeFrames(ARM_WRESTLING, { ...spec, frameCache: c }));
  const entry = path.join(c.dir, entries(c)[0]!);
  fs.truncateSync(entry, frameBytes + 5);
  const s = decodeFrames(ARM_WRESTLING, { ...spec, frameCache: c });
  t.is((await collect(s)).length, 50);
  t.is(await s.source, 'ffmpeg');
  t.is(fs.statSync(entry).size, 50 * frameBytes);
});

test('the cache keeps under its bound by dropping the least recently used entries', (t) => {
  const c = cache();
  const put = (name: string, ageS: number) => {
    const f = path.join(c.dir, `${name}.rgb24`);
    fs.writeFileSync(f, Buffer.alloc(1000));
    const when = new Date(Date.now() - ageS * 1000);
    fs.utimesSync(f, when, when);
  };
  put('old', 30);
  put('mid', 20);
  put('new', 10);
  evict(c.dir, 2000);
  t.deepEqual(entries(c).sort(), ['mid.rgb24', 'new.rgb24']);
  // The entry just written stays even when it alone is over the bound.
  evict(c.dir, 500, path.join(c.dir, 'mid.rgb24'));
  t.deepEqual(entries(c), ['mid.rgb24']);
});

/** Runs `f` with these environment settings, then puts the old ones back. */
function withEnv<T>(env: Record<string, string>, f: () => T): T {
  const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

// Serial: it changes this process's environment, which the other tests read.
test.serial(
  "ffmpeg's version is kept per binary and asked again when the binary changes; a script is always asked",
  (t) => {
    const dir = tempDir('movinet-ffmpeg-version-');
    const real = ffmpegVersion();
    const bin = path.join(dir, 'ffmpeg');
    fs.copyFileSync(fs.realpathSync(ffmpegPath()), bin);
    fs.chmodSync(bin, 0o755);
    const env = { FFMPEG_PATH: bin, MOVINET_CACHE_DIR: path.join(dir, 'cache') };
    const kept = path.join(dir, 'cache', 'ffmpeg-versions.json');
    withEnv(env, () => {
      t.is(ffmpegVersion(), real);
      const entries = JSON.parse(fs.readFileSync(kept, 'utf8')) as Record<string, string>;
      t.deepEqual(Object.values(entries), [real]);
      // What is kept is what is answered: a planted answer for this very binary comes back.
      const key = Object.keys(entries)[0]!;
      t.true(key.startsWith(`${bin}:`), key);
      fs.writeFileSync(kept, JSON.stringify({ [key]: 'planted' }));
      t.is(ffmpegVersion(), 'planted');
      // The same path, a changed binary: asked again.
      fs.utimesSync(bin, new Date(), new Date(Date.now() + 5000));
      t.is(ffmpegVersion(), real);
    });
    const script = path.join(dir, 'ffmpeg-wrapper');
    fs.writeFileSync(script, `#!/bin/sh\nexec '${bin}' "$@"\n`, { mode: 0o755 });
    withEnv({ ...env, FFMPEG_PATH: script }, () => {
      fs.writeFileSync(kept, '{}');
      t.is(ffmpegVersion(), real);
      t.deepEqual(JSON.parse(fs.readFileSync(kept, 'utf8')), {}, 'a script is never kept');
    });
  },
);
