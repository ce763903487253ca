import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { DecodeSpec } from './ffmpeg.js';
import { FrameCacheWriter, frameCacheFile, readFrameCache, type FrameCacheOptions } from './frame-cache.js';
import { damage, durationBased, FfmpegLog, type DecodeEvidence } from './integrity.js';
import { videoStreamDuration } from './probe.js';

/**
 * Runs ffmpeg and turns its rgb24 stream into float32 frames in [0,1], on its
 * own thread, so decoding and conversion run ahead of inference on the second
 * core. At most `maxAhead` frames are in flight; the reader acks each one.
 * A stream that runs to its end is checked for truncation before 'end' is sent.
 * With a frame cache, a clip decoded before is read from it instead, and one
 * decoded now is written to it once it has passed that check.
 *
 * The thread serves one clip after another: starting a thread costs more CPU than decoding a short clip, and
 * a dataset has thousands. Each clip comes with a port of its own, closed once its ffmpeg has been reaped, so
 * nothing of one clip reaches the reader of the next.
 */
export interface DecodeJob {
  ffmpeg: string;
  args: string[];
  file: string;
  fps: number;
  frameBytes: number;
  maxAhead: number;
  maxFrames: number;
  cache?: FrameCacheOptions & { spec: DecodeSpec };
  port: MessagePort;
}

export type WorkerMessage =
  /** `pid` is ffmpeg's; null when the frames come from the frame cache. */
  | { type: 'started'; pid: number | null; source: 'ffmpeg' | 'cache' }
  | { type: 'frame'; data: ArrayBuffer }
  | { type: 'end'; frames: number }
  /** `damaged`: ffmpeg finished, but the file is truncated or damaged; otherwise it could not decode at all. */
  | { type: 'error'; message: string; damaged: boolean };

export type ReaderMessage = { type: 'ack' } | { type: 'stop' };

function runJob(job: DecodeJob): void {
  const { ffmpeg, args, file, fps, frameBytes, maxAhead, maxFrames, cache, port } = job;
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  // Every path of a clip ends by closing its port, after ffmpeg has been reaped: the thread is then free.
  port.once('close', () => parentPort!.postMessage('idle'));

  const entry = cache ? cacheEntry(cache) : undefined;
  const cached = entry ? readFrameCache(entry, frameBytes) : undefined;
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  let writer: FrameCacheWriter | undefined;
  let stopped = false;
  // Set once an error has been posted: the first cause is the one the reader keeps.
  let failed = false;
  let inFlight = 0;
  let frames = 0;
  let pending = Buffer.alloc(frameBytes);
  let filled = 0;
  const log = new FfmpegLog();

  /** The entry for this clip; a file that cannot be hashed is left to ffmpeg to report. */
  function cacheEntry(c: NonNullable<DecodeJob['cache']>): string | undefined {
    try {
      return frameCacheFile(c, file, c.spec);
    } catch {
      return undefined;
    }
  }

  function fail(message: string, damaged = false): void {
    writer?.abandon();
    if (failed || stopped) return;
    failed = true;
    post({ type: 'error', message, damaged });
  }

  /** Posts one frame as float32 in [0,1]; false once the reader has enough in flight. */
  function emit(bytes: Uint8Array): boolean {
    const out = new Float32Array(frameBytes);
    for (let i = 0; i < frameBytes; i++) out[i] = bytes[i]! / 255;
    frames++;
    inFlight++;
    post({ type: 'frame', data: out.buffer }, [out.buffer]);
    if (frames >= maxFrames) stop();
    return inFlight < maxAhead;
  }

  /** Frames from the cache, paced by the reader's acks like ffmpeg's. */
  function serveCached(bytes: Buffer): void {
    post({ type: 'started', pid: null, source: 'cache' });
    const total = bytes.length / frameBytes;
    let next = 0;
    const pump = () => {
      while (!stopped && next < total && inFlight < maxAhead) {
        emit(bytes.subarray(next * frameBytes, (next + 1) * frameBytes));
        next++;
      }
      if (!stopped && next === total) {
        post({ type: 'end', frames });
        port.close();
      }
    };
    resume = pump;
    pump();
  }

  /** Called when the reader has room again. */
  let resume = (): void => {
    if (child?.stdout.isPaused()) child.stdout.resume();
  };

  function startFfmpeg(): void {
    const c = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.on('spawn', () => post({ type: 'started', pid: c.pid!, source: 'ffmpeg' }));
    c.on('error', (e) => fail(`cannot run ffmpeg: ${e.message}`));
    c.stderr.setEncoding('utf8');
    c.stderr.on('data', (d: string) => log.push(d));
    c.stdout.on('data', onData);
    c.on('close', onClose);
    if (entry && cache) {
      try {
        writer = new FrameCacheWriter(entry, cache);
      } catch {
        // An unwritable cache only means this clip is decoded again next time.
        writer = undefined;
      }
    }
  }

  function onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !stopped) {
      const n = Math.min(frameBytes - filled, chunk.length - offset);
      chunk.copy(pending, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === frameBytes) {
        writer?.append(pending);
        if (!emit(pending)) child!.stdout.pause();
        pending = Buffer.alloc(frameBytes);
        filled = 0;
      }
    }
  }

  /** A GIF ends with the trailer byte 0x3B; a cut one does not, and ffmpeg says nothing about it. */
  function gifUnterminated(): boolean {
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const last = Buffer.alloc(1);
        const size = fs.fstatSync(fd).size;
        return size > 0 && fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x3b;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return false;
    }
  }

  async function verdict(): Promise<string | undefined> {
    const evidence: DecodeEvidence = {
      frames,
      fps,
      log,
      durationS: log.durationS,
      gifUnterminated: log.gif && gifUnterminated(),
    };
    const why = damage(evidence);
    if (!why || !durationBased(evidence)) return why;
    const streamS = await videoStreamDuration(file);
    return streamS === undefined ? why : damage({ ...evidence, durationS: streamS });
  }

  function onClose(code: number | null, signal: NodeJS.Signals | null): void {
    log.end();
    // After a stop, ffmpeg has been reaped by now: only then is the thread free for the next clip.
    if (stopped || failed) return port.close();
    if (code !== 0) {
      fail(log.failure() ?? `ffmpeg exited with ${code ?? signal}`);
      return port.close();
    }
    void verdict().then((why) => {
      if (why) fail(why, true);
      else if (!stopped) {
        commitCache();
        post({ type: 'end', frames });
      }
      port.close();
    });
  }

  /** A clip that decoded whole and undamaged is kept; a cache that cannot be written is not an error. */
  function commitCache(): void {
    try {
      writer?.commit();
    } catch {
      writer?.abandon();
    }
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    // A stream cut short is not the whole clip: nothing is cached.
    writer?.abandon();
    post({ type: 'end', frames });
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    else port.close();
  }

  port.on('message', (m: ReaderMessage) => {
    if (m.type === 'stop') stop();
    else if (--inFlight < maxAhead) resume();
  });

  if (cached) serveCached(cached);
  else startFfmpeg();
}

parentPort!.on('message', runJob);
