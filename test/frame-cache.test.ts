import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { decodeFrames } from '../src/video/decode.js';
import { ffmpegVersion } from '../src/video/ffmpeg.js';
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
