import type { Session, State } from '../backends/backend.js';

export interface StepTiming {
  logits: Float32Array;
  /** Wall time of the step() call alone, ms. */
  ms: number;
}

/**
 * Feeds frames to one session from zero state, carrying the states each call
 * returns into the next: the one place the harness drives a stream (bench,
 * accuracy, parity, classify, and the browser page, which bundles this file).
 * Only step() is inside the clock, read with performance.now() in both targets. Each
 * backend's bare loop deliberately does not use this: it is the reference the
 * harness overhead is measured against.
 */
export class StreamStepper {
  /** The state the next step consumes; null once a step has taken it and failed (nothing left to free). */
  private state: State | null;
  private closed = false;
  frames = 0;

  constructor(private readonly session: Session) {
    this.state = session.initialState();
  }

  async step(frame: Float32Array): Promise<StepTiming> {
    const state = this.state;
    if (!state) throw new Error('this stream failed on an earlier frame');
    // step() consumes the handle even when it throws: a failed stream has no state to release.
    this.state = null;
    const t0 = performance.now();
    const out = await this.session.step(frame, state);
    const ms = performance.now() - t0;
    this.state = out.state;
    this.frames++;
    return { logits: out.logits, ms };
  }

  /** Frees the last state; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.state) this.session.release(this.state);
  }
}

/** Streams frames through a fresh stepper, calling `each` after every frame, and always releases the state. */
export async function streamFrames(
  session: Session,
  frames: Iterable<Float32Array> | AsyncIterable<Float32Array>,
  each: (result: StepTiming, index: number) => void,
): Promise<number> {
  const stepper = new StreamStepper(session);
  try {
    for await (const frame of frames) each(await stepper.step(frame), stepper.frames - 1);
    return stepper.frames;
  } finally {
    stepper.close();
  }
}
