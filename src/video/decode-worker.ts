import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Runs ffmpeg and turns its rgb24 stream into float32 frames in [0,1], on its
 * own thread, so decoding and conversion run ahead of inference on the second
 * core. At most `maxAhead` frames are in flight; the reader acks each one.
 */
export interface DecodeWorkerData {
  ffmpeg: string;
  args: string[];
  frameBytes: number;
  maxAhead: number;
  maxFrames: number;
}

export type WorkerMessage =
  | { type: 'started'; pid: number }
  | { type: 'frame'; data: ArrayBuffer }
  | { type: 'end'; frames: number }
  | { type: 'error'; message: string };

export type ReaderMessage = { type: 'ack' } | { type: 'stop' };

const { ffmpeg, args, frameBytes, maxAhead, maxFrames } = workerData as DecodeWorkerData;
const port = parentPort!;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let stopped = false;
let inFlight = 0;
let frames = 0;
let pending = Buffer.alloc(frameBytes);
let filled = 0;
let stderr = '';

child.on('spawn', () => post({ type: 'started', pid: child.pid! }));
child.on('error', (e) => post({ type: 'error', message: `cannot run ffmpeg: ${e.message}` }));
child.stderr.on('data', (d: Buffer) => {
  stderr = (stderr + d.toString()).slice(-2000);
});

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

child.on('close', (code, signal) => {
  // After a stop, ffmpeg has been reaped by now: only then does the worker end.
  if (stopped) return port.close();
  if (code !== 0) {
    const why = stderr.trim().split('\n').pop() || `ffmpeg exited with ${code ?? signal}`;
    post({ type: 'error', message: why });
  } else post({ type: 'end', frames });
  port.close();
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
