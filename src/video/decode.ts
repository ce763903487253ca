import { MessageChannel, Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { builtFile } from '../util/paths.js';
import type { DecodeJob, ReaderMessage, WorkerMessage } from './decode-worker.js';
import { decodeArgs, ffmpegPath, type DecodeSpec } from './ffmpeg.js';
import type { FrameCacheOptions } from './frame-cache.js';

export interface FrameStream extends AsyncIterableIterator<Float32Array> {
  /** The ffmpeg process id, once started (tests check it is gone after an early stop); null for a frame-cache hit. */
  readonly pid: Promise<number | null>;
  /** Where the frames come from, once started. */
  readonly source: Promise<'ffmpeg' | 'cache'>;
  /** Resolves when the decoder has nothing more to give (every frame sent, failed, or closed). */
  readonly finished: Promise<void>;
  /** Stops decoding and kills ffmpeg; safe to call more than once. */
  close(): Promise<void>;
}

export interface DecodeOptions extends DecodeSpec {
  /** Frames decoded ahead of the consumer (default 32). */
  maxAhead?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
  /** Read a clip decoded before from this cache, and keep one decoded now in it. */
  frameCache?: FrameCacheOptions;
}

/**
 * Decoder threads left idle by a finished clip, reused by the next: a dataset run decodes thousands of clips,
 * and each new thread costs a Node start-up. An idle thread is unref'd, so it never keeps the process alive.
 */
const idle: Worker[] = [];

function acquireWorker(): Worker {
  const reused = idle.pop();
  if (reused) {
    reused.ref();
    return reused;
  }
  const worker = new Worker(builtFile('video', 'decode-worker.js'));
  // A thread that fails between clips concerns no reader (the clip's own listener reports one that fails during
  // it); it then exits, and leaves the pool.
  worker.on('error', () => {});
  worker.once('exit', () => {
    const i = idle.indexOf(worker);
    if (i >= 0) idle.splice(i, 1);
  });
  return worker;
}

function releaseWorker(worker: Worker): void {
  worker.unref();
  idle.push(worker);
}

/**
 * Streams a video as float32 RGB frames [H*W*3] in [0,1] at a fixed fps and
 * size. Never holds the whole video: at most `maxAhead` frames are buffered.
 * A stream read to its end throws after the last frame if the file turned out
 * truncated or damaged (see `damage()`), so no consumer scores it silently;
 * one stopped early (maxFrames, close) is not judged.
 */
export function decodeFrames(file: string, opts: DecodeOptions): FrameStream {
  const worker = acquireWorker();
  const { port1: port, port2 } = new MessageChannel();
  const job: DecodeJob = {
    port: port2,
    ffmpeg: ffmpegPath(),
    args: decodeArgs(file, opts),
    file,
    fps: opts.fps,
    frameBytes: opts.size * opts.size * 3,
    maxAhead: opts.maxAhead ?? 32,
    maxFrames: opts.maxFrames ?? Number.MAX_SAFE_INTEGER,
    ...(opts.frameCache
      ? { cache: { ...opts.frameCache, spec: { size: opts.size, fps: opts.fps, resize: opts.resize } } }
      : {}),
  };
  worker.postMessage(job, [port2]);
  const queue: Float32Array[] = [];
  let done = false;
  let closed = false;
  // The first failure wins: a later one (ffmpeg's exit after a failed spawn, the worker's exit) is its echo.
  let failure: { message: string; damaged: boolean } | undefined;
  let wake: (() => void) | undefined;
  let resolvePid: (pid: number | null) => void = () => {};
  const pid = new Promise<number | null>((r) => (resolvePid = r));
  let resolveSource: (source: 'ffmpeg' | 'cache') => void = () => {};
  const source = new Promise<'ffmpeg' | 'cache'>((r) => (resolveSource = r));
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const send = (m: ReaderMessage) => port.postMessage(m);
  const notify = () => {
    if (done) resolveFinished();
    wake?.();
    wake = undefined;
  };
  port.on('message', (m: WorkerMessage) => {
    if (m.type === 'started') {
      resolvePid(m.pid);
      resolveSource(m.source);
    }
    // Whatever was in flight when close() stopped the worker still arrives: a closed stream is over.
    else if (closed) return;
    else if (m.type === 'frame') queue.push(new Float32Array(m.data));
    else if (m.type === 'end') done = true;
    else {
      failure ??= m;
      done = true;
    }
    notify();
  });
  const onError = (e: Error) => {
    failure ??= { message: e.message, damaged: false };
    done = true;
    notify();
  };
  // A worker that dies before saying 'end' must not pass for a short clip.
  const onExit = (code: number) => {
    if (!done) failure ??= { message: `decoder thread exited with code ${code}`, damaged: false };
    done = true;
    notify();
    jobOver();
  };
  // The thread says 'idle' once this clip's ffmpeg has been reaped: only then can it take another clip.
  const onIdle = () => {
    jobOver();
    releaseWorker(worker);
  };
  let resolveOver: () => void = () => {};
  const over = new Promise<void>((r) => (resolveOver = r));
  const jobOver = () => {
    worker.off('error', onError).off('exit', onExit).off('message', onIdle);
    resolveOver();
  };
  /** Waits until the thread has reaped this clip's ffmpeg; one that hangs is terminated, never reused. */
  const settled = async () => {
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await over;
    clearTimeout(timer);
  };
  worker.on('error', onError).on('exit', onExit).once('message', onIdle);

  const close = async () => {
    closed = true;
    queue.length = 0;
    resolveFinished();
    if (!done) {
      done = true;
      send({ type: 'stop' });
      await settled();
    }
  };

  const stream: FrameStream = {
    pid,
    source,
    finished,
    close,
    async next(): Promise<IteratorResult<Float32Array>> {
      while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
      const frame = queue.shift();
      if (frame) {
        if (!done) send({ type: 'ack' });
        return { value: frame, done: false };
      }
      if (failure) {
        await settled();
        throw new UserError(
          failure.damaged
            ? `video ${file} is truncated or damaged: ${failure.message}`
            : `cannot decode video ${file}: ${failure.message}`,
        );
      }
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<Float32Array>> {
      await close();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
