import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { decodeFrames, type FrameStream } from '../src/video/decode.js';
import { collect } from '../src/video/frames.js';
import { UserError } from '../src/util/errors.js';
import { osThreads } from '../src/util/os-threads.js';
import { ARM_WRESTLING, clip, cli, isOneLineError, tempDir } from './helpers.js';

const tmp = tempDir('movinet-integrity-');
const spec = { size: 172, fps: 5, resize: 'crop' } as const;
const decode = (file: string, extra: { maxFrames?: number } = {}): FrameStream =>
  decodeFrames(file, { ...spec, ...extra });

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** The first half of a file's bytes, as an interrupted download leaves it. */
function halfOf(src: string, name: string): string {
  const out = path.join(tmp, name);
  const bytes = fs.readFileSync(src);
  fs.writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return out;
}

/** An mp4 rewritten with or without its moov atom in front, then cut in half. */
function cutMp4(faststart: boolean): string {
  const whole = path.join(tmp, faststart ? 'faststart.mp4' : 'moov-last.mp4');
  if (!fs.existsSync(whole))
    ffmpeg(['-i', ARM_WRESTLING, '-c', 'copy', ...(faststart ? ['-movflags', '+faststart'] : []), whole]);
  return halfOf(whole, `half-${path.basename(whole)}`);
}

async function decodeError(file: string): Promise<UserError> {
  const err = await collect(decode(file)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UserError)) throw new Error(`${file}: expected a UserError, got ${String(err)}`);
  return err;
}

const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

test('a faststart mp4 cut in half is truncated, not half-scored', async (t) => {
  const err = await decodeError(cutMp4(true));
  t.regex(err.message, /is truncated or damaged: decoded \d+ of ~50 expected frames \(ffmpeg: .*partial file/);
});

test('an mp4 cut in half before its moov atom cannot be decoded', async (t) => {
  const err = await decodeError(cutMp4(false));
  t.regex(err.message, /^cannot decode video .*moov atom not found/);
});

test('a cut mkv, avi or gif is truncated too', async (t) => {
  for (const name of [
    'flipping_pancake__decord-flipping_a_pancake.mkv',
    'archery__PaddleVideo-example.avi',
    'playing_cricket__kinetics-i3d-v_CricketShot_g04_c01_rgb.gif',
  ]) {
    const err = await decodeError(halfOf(clip(name), `half-${name}`));
    t.regex(err.message, /truncated or damaged/, name);
  }
});

test('an audio track longer than the video is not a truncation', async (t) => {
  const file = path.join(tmp, 'long-audio.mp4');
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc=d=2:s=160x120:r=25', '-f', 'lavfi', '-i', 'sine=d=4'],
    ...['-c:v', 'libx264', '-c:a', 'aac', file],
  ]);
  t.is((await collect(decode(file))).length, 10);
});

test('stopping early is not a truncation and leaves no ffmpeg running', async (t) => {
  t.is((await collect(decode(ARM_WRESTLING, { maxFrames: 3 }))).length, 3);

  const stream = decode(ARM_WRESTLING);
  for (let i = 0; i < 3; i++) t.false((await stream.next()).done);
  const pid = await stream.pid;
  if (pid === null) return t.fail('no frame cache was asked for: ffmpeg must run');
  await stream.close();
  t.true(gone(pid));
  t.deepEqual(await stream.next(), { value: undefined, done: true });
});

test('classify on a truncated video: one-line error, exit 2', (t) => {
  const r = cli(['classify', cutMp4(true)]);
  t.is(r.code, 2, r.stderr);
  t.true(isOneLineError(r.stderr), r.stderr);
  t.regex(r.stderr, /truncated/);
});

test('FFMPEG_PATH not executable or not a file: refused up front with one line, exit 2', (t) => {
  const plain = path.join(tmp, 'not-executable');
  fs.writeFileSync(plain, 'not a program\n', { mode: 0o644 });
  for (const [ffmpegPath, why] of [
    [plain, /cannot run ffmpeg: FFMPEG_PATH=.*not-executable is not executable/],
    [tmp, /cannot run ffmpeg: FFMPEG_PATH=.* is not a file/],
  ] as const) {
    const r = cli(['classify', ARM_WRESTLING], { FFMPEG_PATH: ffmpegPath });
    t.is(r.code, 2, r.stderr);
    t.true(isOneLineError(r.stderr), r.stderr);
    t.regex(r.stderr, why);
    t.notRegex(r.stderr, /exited with/);
  }
});

test('an ffmpeg that fails to start reports why, not the exit status that follows', async (t) => {
  // Executable, so it passes the up-front check, but its interpreter is missing: the spawn itself fails.
  const script = path.join(tmp, 'ffmpeg');
  fs.writeFileSync(script, '#!/nonexistent/interpreter\n', { mode: 0o755 });
  // Set only while the stream is created (the path is read then, synchronously): other tests run concurrently.
  const saved = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = script;
  let stream: FrameStream;
  try {
    stream = decode(ARM_WRESTLING);
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
  const err = await t.throwsAsync(collect(stream), { instanceOf: UserError });
  t.regex(err!.message, /^cannot decode video .*: cannot run ffmpeg: spawn .* ENOENT$/);
});

test.serial(
  'one decoder thread serves clip after clip: a failure or an early stop leaves nothing to the next',
  async (t) => {
    const tai = clip('tai_chi__mmskeleton-ta_chi.mp4');
    const [arm, taiAlone] = [await collect(decode(ARM_WRESTLING, { maxFrames: 8 })), await collect(decode(tai))];
    // This process's OS threads: decoder threads that piled up instead of being reused would show here.
    const after = osThreads();
    if (after === null) return t.fail('this OS lists no threads');
    for (let round = 0; round < 3; round++) {
      await decodeError(cutMp4(false));
      const stopped = decode(ARM_WRESTLING);
      t.false((await stopped.next()).done);
      await stopped.close();
      t.deepEqual(await collect(decode(tai)), taiAlone, `round ${round}: the whole clip, frame for frame`);
      t.deepEqual(await collect(decode(ARM_WRESTLING, { maxFrames: 8 })), arm, `round ${round}: the first frames`);
    }
    const now = osThreads()!;
    t.true(now <= after, `${now} threads after 12 more clips, ${after} after the first two`);
  },
);
