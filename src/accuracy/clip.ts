import type { Session } from '../backends/backend.js';
import type { ResolvedModel } from '../models/resolve.js';
import { UserError } from '../util/errors.js';
import { decodeFrames, type FrameStream } from '../video/decode.js';
import type { FrameCacheOptions } from '../video/frame-cache.js';
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

export function openClip(
  model: ResolvedModel,
  file: string,
  opts: Pick<ClipOptions, 'fps' | 'resize'> & { frameCache?: FrameCacheOptions; maxAhead?: number },
): OpenedClip {
  try {
    // No ffprobe here: it would block this thread for ~0.3 s per clip. ffmpeg's own error names an undecodable file.
    checkVideoFile(file);
    return {
      file,
      stream: decodeFrames(file, {
        size: model.signature.height,
        fps: opts.fps,
        resize: opts.resize,
        maxAhead: opts.maxAhead ?? 64,
        ...(opts.frameCache ? { frameCache: opts.frameCache } : {}),
      }),
    };
  } catch (e) {
    if (e instanceof UserError) return { file, error: e };
    throw e;
  }
}

/** A clip that gave no frame: nothing to score. */
export function tooShort(file: string, fps: number): UserError {
  return new UserError(`video ${file} is too short: it gives no frame at ${fps} fps`);
}

/** One session's pass over a clip, fed frame by frame: its stepper, the top-1 after each frame, step times. */
export class ClipFeed {
  private readonly stepper: StreamStepper;
  private logits: Float32Array | undefined;
  private readonly top1ByFrame: number[] = [];
  private readonly stepMs: number[] = [];

  constructor(
    session: Session,
    private readonly onFrame?: ClipOptions['onFrame'],
  ) {
    this.stepper = new StreamStepper(session);
  }

  async step(frame: Float32Array): Promise<void> {
    const out = await this.stepper.step(frame);
    this.stepMs.push(out.ms);
    this.logits = out.logits;
    this.top1ByFrame.push(argmax(out.logits));
    this.onFrame?.(this.top1ByFrame.length - 1, out.logits);
  }

  close(): void {
    this.stepper.close();
  }

  result(file: string, fps: number, decodeWaitMs: number): ClipRun {
    if (!this.logits) throw tooShort(file, fps);
    const { logits, top1ByFrame, stepMs } = this;
    return { frames: top1ByFrame.length, logits, top1ByFrame, stepMs, decodeWaitMs };
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
  const stream = opened.stream!;
  const feed = new ClipFeed(session, opts.onFrame);
  let waitMs = 0;
  try {
    for (;;) {
      const w0 = performance.now();
      const next = await stream.next();
      waitMs += performance.now() - w0;
      if (next.done) break;
      await feed.step(next.value);
    }
  } finally {
    feed.close();
    await stream.close();
  }
  return feed.result(opened.file, opts.fps, waitMs);
}
