import type { Session } from '../backends/backend.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { decodeFrames } from '../video/decode.js';
import type { ResizeMode } from '../video/ffmpeg.js';
import { probeVideo } from '../video/probe.js';
import { argmax } from './probabilities.js';

export interface ClipRun {
  frames: number;
  /** Logits after the last frame: the clip-level prediction. */
  logits: Float32Array;
  top1ByFrame: number[];
  stepMs: number[];
}

export interface ClipOptions {
  resize: ResizeMode;
  fps: number;
  /** Called after each frame with its index and logits (classify --every). */
  onFrame?: (index: number, logits: Float32Array) => void;
}

/**
 * Streams one clip through a session from zero state, frame by frame. ffmpeg
 * decodes ahead on its own thread; only step() is timed.
 */
export async function runClip(session: Session, model: ResolvedModel, file: string, opts: ClipOptions): Promise<ClipRun> {
  probeVideo(file);
  const size = model.signature.height;
  let state = session.initialState();
  let logits: Float32Array | undefined;
  const top1ByFrame: number[] = [];
  const stepMs: number[] = [];
  const stream = decodeFrames(file, { size, fps: opts.fps, resize: opts.resize });
  try {
    for await (const frame of stream) {
      const t0 = process.hrtime.bigint();
      const out = await session.step(frame, state);
      stepMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      state = out.state;
      logits = out.logits;
      top1ByFrame.push(argmax(logits));
      opts.onFrame?.(top1ByFrame.length - 1, logits);
    }
  } finally {
    session.release(state);
    await stream.close();
  }
  if (!logits) throw new UserError(`video ${file} is too short: it gives no frame at ${opts.fps} fps`);
  return { frames: top1ByFrame.length, logits, top1ByFrame, stepMs };
}
