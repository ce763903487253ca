import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { damage, durationBased, FfmpegLog, type DecodeEvidence } from './integrity.js';
import { videoStreamDuration } from './probe.js';

/**
 * Runs ffmpeg and turns its rgb24 stream into float32 frames in [0,1], on its
 * own thread, so decoding and conversion run ahead of inference on the second
 * core. At most `maxAhead` frames are in flight; the reader acks each one.
 * A stream that runs to its end is checked for truncation before 'end' is sent.
 */
export interface DecodeWorkerData {
  ffmpeg: string;
  args: string[];
  file: string;
  fps: number;
  frameBytes: number;
  maxAhead: number;
  maxFrames: number;
}

export type WorkerMessage =
  | { type: 'started'; pid: number }
  | { type: 'frame'; data: ArrayBuffer }
  | { type: 'end'; frames: number }
  /** `damaged`: ffmpeg finished, but the file is truncated or damaged; otherwise it could not decode at all. */
  | { type: 'error'; message: string; damaged: boolean };

export type ReaderMessage = { type: 'ack' } | { type: 'stop' };

const { ffmpeg, args, file, fps, frameBytes, maxAhead, maxFrames } = workerData as DecodeWorkerData;
const port = parentPort!;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let stopped = false;
// Set once an error has been posted: the first cause is the one the reader keeps.
let failed = false;
let inFlight = 0;
let frames = 0;
let pending = Buffer.alloc(frameBytes);
let filled = 0;
const log = new FfmpegLog();

child.on('spawn', () => post({ type: 'started', pid: child.pid! }));
child.on('error', (e) => fail(`cannot run ffmpeg: ${e.message}`));
child.stderr.setEncoding('utf8');
child.stderr.on('data', (d: string) => log.push(d));

function fail(message: string, damaged = false): void {
  if (failed || stopped) return;
  failed = true;
  post({ type: 'error', message, damaged });
}

function emit(): void {
  const out = new Float32Array(frameBytes);
  for (let i = 0; i < frameBytes; i++) out[i] = pending[i]! / 255;
  frames++;
  inFlight++;
  post({ type: 'frame', data: out.buffer }, [out.buffer]);
  if (frames >= maxFrames) stop();
  else if (inFlight >= maxAhead) child.stdout.pause();
}

child.stdout.on('data', (chunk: Buffer) => {
  let offset = 0;
  while (offset < chunk.length && !stopped) {
    const n = Math.min(frameBytes - filled, chunk.length - offset);
    chunk.copy(pending, filled, offset, offset + n);
    filled += n;
    offset += n;
    if (filled === frameBytes) {
      emit();
      pending = Buffer.alloc(frameBytes);
      filled = 0;
    }
  }
});

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

child.on('close', (code, signal) => {
  log.end();
  // After a stop, ffmpeg has been reaped by now: only then does the worker end.
  if (stopped || failed) return port.close();
  if (code !== 0) {
    fail(log.failure() ?? `ffmpeg exited with ${code ?? signal}`);
    return port.close();
  }
  void verdict().then((why) => {
    if (why) fail(why, true);
    else if (!stopped) post({ type: 'end', frames });
    port.close();
  });
});

function stop(): void {
  if (stopped) return;
  stopped = true;
  post({ type: 'end', frames });
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  else port.close();
}

port.on('message', (m: ReaderMessage) => {
  if (m.type === 'stop') stop();
  else if (--inFlight < maxAhead && child.stdout.isPaused()) child.stdout.resume();
});
