import type { Backend, BatchedSession, LoadOptions } from '../backends/backend.js';
import { batchedLoader } from '../backends/batching.js';
import type { ResolvedModel } from '../models/resolve.js';

/** How a refusal names the batched schedule. */
export const SCHEDULE_FLAG = '--schedule batched';

/** A stream's frame for a call that steps several streams at once. */
export interface StreamFrame {
  stream: number;
  frame: Float32Array;
}

/** One call of several streams: the logits in the order asked, the call alone, and with the arrays around it. */
export interface CallTiming {
  logits: Float32Array[];
  ms: number;
  serviceMs: number;
}

/**
 * N streams as the slots of one batched session (the batched schedule): each stream's states are its slot's rows
 * between calls, and one call steps every stream given, up to `maxBatch` of them.
 */
export interface BatchedStreamStates {
  readonly placement: 'slots';
  readonly streams: number;
  readonly maxBatch: number;
  /** One call for these streams, each at most once. */
  stepTogether(frames: readonly StreamFrame[]): Promise<CallTiming>;
  /**
   * Calls at every power-of-two width up to the widest, and one out of slot order, `count` times, so no stream's
   * first call at a new width pays the runtime's first allocation for it; every slot is then reset to zero state.
   */
  warm(frame: Float32Array, count: number): Promise<void>;
  close(): void;
}

/** The widths warm() calls at: powers of two below `width`, and `width`. */
function warmWidths(width: number): number[] {
  const widths: number[] = [];
  for (let w = 1; w < width; w *= 2) widths.push(w);
  return [...widths, width];
}

class SlotsOfOneSession implements BatchedStreamStates {
  readonly placement = 'slots';
  private slots: number[];

  constructor(
    private readonly session: BatchedSession,
    readonly maxBatch: number,
  ) {
    this.slots = Array.from({ length: session.slots }, () => session.open());
  }

  get streams(): number {
    return this.slots.length;
  }

  async stepTogether(frames: readonly StreamFrame[]): Promise<CallTiming> {
    const t0 = performance.now();
    if (frames.length > this.maxBatch)
      throw new Error(`a call of ${frames.length} streams is over the largest batch, ${this.maxBatch}`);
    const call = frames.map((f) => ({ slot: this.slots[f.stream]!, frame: f.frame }));
    const t1 = performance.now();
    const logits = await this.session.step(call);
    const t2 = performance.now();
    return { logits, ms: t2 - t1, serviceMs: t2 - t0 };
  }

  async warm(frame: Float32Array, count: number): Promise<void> {
    const width = Math.min(this.maxBatch, this.streams);
    for (let i = 0; i < count; i++) {
      for (const w of warmWidths(width))
        await this.session.step(this.slots.slice(0, w).map((slot) => ({ slot, frame })));
      // A call whose slots are not 0..n-1 in order gathers into arrays of its own, made on the first such call.
      if (width >= 2) await this.session.step([1, 0].map((k) => ({ slot: this.slots[k]!, frame })));
    }
    for (const slot of this.slots) this.session.close(slot);
    this.slots = this.slots.map(() => this.session.open());
  }

  close(): void {
    this.session.dispose();
  }
}

/** N streams in one batched session of N slots, stepped at most `maxBatch` to a call. */
export async function openBatchedStates(
  backend: Backend,
  model: ResolvedModel,
  streams: number,
  maxBatch: number,
  opts: LoadOptions,
): Promise<BatchedStreamStates> {
  const load = batchedLoader(backend, SCHEDULE_FLAG);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`the largest batch must be 1 or more: ${maxBatch}`);
  return new SlotsOfOneSession(await load(model, { ...opts, slots: streams }), maxBatch);
}
