import type { Session } from '../backends/backend.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { decodeFrames, type FrameStream } from '../video/decode.js';
import type { ResizeMode } from '../video/ffmpeg.js';
import { checkVideoFile } from '../video/probe.js';
import { argmax } from '../metrics/probabilities.js';
import { StreamStepper } from '../stream/stream.js';

export interface ClipRun {
  frames: number;
  /** Logits after the last frame: the clip-level prediction. */
  logits: Float32Array;
  top1ByFrame: number[];
  stepMs: number[];
  /** Time the model spent waiting for decoded frames (0 when decoding keeps ahead). */
  decodeWaitMs: number;
}

export interface ClipOptions {
  resize: ResizeMode;
  fps: number;
  /** Called after each frame with its index and logits (classify --every). */
  onFrame?: (index: number, logits: Float32Array) => void;
}

/** A clip whose decoding has started (or failed to); opened early so decoding runs ahead of inference. */
export interface OpenedClip {
  file: string;
  stream?: FrameStream;
  error?: UserError;
}

export function openClip(model: ResolvedModel, file: string, opts: Pick<ClipOptions, 'fps' | 'resize'>): OpenedClip {
  try {
    // No ffprobe here: it would block this thread for ~0.3 s per clip. ffmpeg's own error names an undecodable file.
    checkVideoFile(file);
    return {
      file,
      stream: decodeFrames(file, { size: model.signature.height, fps: opts.fps, resize: opts.resize, maxAhead: 64 }),
    };
  } catch (e) {
    if (e instanceof UserError) return { file, error: e };
    throw e;
  }
}

/**
 * Streams one clip through a session from zero state, frame by frame. ffmpeg
 * decodes ahead on its own thread; only step() is timed.
 */
export async function runClip(
  session: Session,
  model: ResolvedModel,
  clip: string | OpenedClip,
  opts: ClipOptions,
): Promise<ClipRun> {
  const opened = typeof clip === 'string' ? openClip(model, clip, opts) : clip;
  if (opened.error) throw opened.error;
  const file = opened.file;
  const stream = opened.stream!;
  const stepper = new StreamStepper(session);
  let logits: Float32Array | undefined;
  const top1ByFrame: number[] = [];
  const stepMs: number[] = [];
  let waitNs = 0n;
  try {
    for (;;) {
      const w0 = process.hrtime.bigint();
      const next = await stream.next();
      waitNs += process.hrtime.bigint() - w0;
      if (next.done) break;
      const out = await stepper.step(next.value);
      stepMs.push(out.ms);
      logits = out.logits;
      top1ByFrame.push(argmax(logits));
      opts.onFrame?.(top1ByFrame.length - 1, logits);
    }
  } finally {
    stepper.close();
    await stream.close();
  }
  if (!logits) throw new UserError(`video ${file} is too short: it gives no frame at ${opts.fps} fps`);
  return { frames: top1ByFrame.length, logits, top1ByFrame, stepMs, decodeWaitMs: Number(waitNs) / 1e6 };
}
