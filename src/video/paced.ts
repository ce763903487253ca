import { decodeFrames, type DecodeOptions, type FrameStream } from './decode.js';

/**
 * A source that behaves like a camera: frames become available at their
 * capture time, whatever the consumer is doing. A file is decoded ahead (by
 * ffmpeg in its own process, bounded) and frame i is released at
 * t0 + i / rate on this process's clock; a camera (a V4L2 device, which
 * ffmpeg picks by its probe for /dev/video*) paces itself, and each frame is
 * captured when it arrives. What the consumer does with frames that wait
 * (drop or queue them) is its own policy.
 */

/** Frames in video order, from a decoder or from memory. */
export interface FrameSupplier {
  /** The next frame, or undefined at the end. */
  next(): Promise<Float32Array | undefined>;
  /** Stops the decoder, if any, and waits until its process is gone. */
  close(): Promise<void>;
  /** The running decoder's process id, if there is one. */
  readonly pid: number | undefined;
  /** Frames already in memory are there at once: none is ever late for its capture time. */
  nextNow?(): Float32Array | undefined;
}

/**
 * Decodes `file` pass after pass with `loop`: each pass is a fresh ffmpeg and
 * is checked for truncation like any decode, which `-stream_loop` would not.
 */
export function decoderSupplier(file: string, opts: DecodeOptions, loop: boolean): FrameSupplier {
  let closed = false;
  let pid: number | undefined;
  let passFrames = 0;
  const open = (): FrameStream => {
    const s = decodeFrames(file, opts);
    void s.pid.then((p) => {
      if (stream === s) pid = p ?? undefined;
    });
    return s;
  };
  let stream = open();
  return {
    get pid() {
      return pid;
    },
    async next() {
      for (;;) {
        if (closed) return undefined;
        const r = await stream.next();
        if (!r.done) {
          passFrames++;
          return r.value;
        }
        pid = undefined;
        // A pass that gave nothing would loop forever without a frame.
        if (!loop || passFrames === 0 || closed) return undefined;
        passFrames = 0;
        stream = open();
      }
    },
    async close() {
      closed = true;
      await stream.close();
      pid = undefined;
    },
  };
}

/** Frames already decoded, once or cycled (`loop`). */
export function memorySupplier(frames: readonly Float32Array[], loop: boolean): FrameSupplier {
  let i = 0;
  let closed = false;
  const nextNow = () =>
    closed || frames.length === 0 || (!loop && i >= frames.length) ? undefined : frames[i++ % frames.length];
  return {
    pid: undefined,
    nextNow,
    next: () => Promise.resolve(nextNow()),
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

export interface SourceFrame {
  /** Frame number in video order, counting on across loops. */
  index: number;
  /** When the frame became available, ms from the source's start. */
  captureMs: number;
  data: Float32Array;
  /** The decoder handed it over after its capture time; it counts from its arrival. */
  late: boolean;
}

export interface PacedSourceOptions {
  supplier: FrameSupplier;
  /** Frames per second of wall time; null when the supplier paces itself (a camera). */
  rate: number | null;
  /** No frame is captured at or after this time from the start (Infinity: until the supplier ends). */
  durationMs: number;
  /** Decoded frames held before their capture time (a paced source only). */
  ahead: number;
}

/** The span before a capture time that is waited precisely rather than by a timer. */
const PRECISE_WAIT_MS = 2;
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

interface Arrived {
  data: Float32Array;
  /** performance.now() when it came out of the supplier. */
  at: number;
}

export class PacedSource {
  private readonly supplier: FrameSupplier;
  private readonly rate: number | null;
  private readonly durationMs: number;
  private readonly ahead: number;
  private readonly decoded: Arrived[] = [];
  private t0 = 0;
  private started = false;
  private nextIndex = 0;
  private exhausted = false;
  private stopped = false;
  private pumping = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: PacedSourceOptions) {
    this.supplier = opts.supplier;
    this.rate = opts.rate;
    this.durationMs = opts.durationMs;
    this.ahead = Math.max(1, opts.ahead);
  }

  /** ms since the start (the capture time of frame 0 for a paced source). */
  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** Waits for the first decoded frame, so ffmpeg's start-up is not taken for lateness, then starts the clock. */
  async start(): Promise<void> {
    this.fromMemory();
    void this.pump();
    while (this.decoded.length === 0 && !this.exhausted && !this.stopped) await this.sleep(Infinity);
    this.throwFailure();
    this.t0 = performance.now();
    this.started = true;
  }

  /** The frames whose capture time has come since the last call, oldest first. */
  capture(): SourceFrame[] {
    this.throwFailure();
    const out: SourceFrame[] = [];
    if (!this.started || this.stopped) return out;
    const now = this.elapsed();
    for (;;) {
      const first = this.decoded[0] ?? this.fromMemory();
      if (first === undefined) break;
      const arrived = first.at - this.t0;
      const scheduled = this.rate === null ? arrived : (this.nextIndex * 1000) / this.rate;
      if (scheduled >= this.durationMs || scheduled > now) break;
      this.decoded.shift();
      out.push({
        index: this.nextIndex++,
        captureMs: Math.max(0, scheduled, arrived),
        data: first.data,
        late: this.rate !== null && arrived > scheduled,
      });
    }
    if (out.length) void this.pump();
    return out;
  }

  /** The supplier's next frame when it is in memory, queued as if decoded long ago. */
  private fromMemory(): Arrived | undefined {
    if (this.exhausted || !this.supplier.nextNow) return undefined;
    const data = this.supplier.nextNow();
    if (data === undefined) {
      this.exhausted = true;
      return undefined;
    }
    const frame = { data, at: -Infinity };
    this.decoded.push(frame);
    return frame;
  }

  /** No frame will be captured any more. */
  finished(): boolean {
    if (this.stopped) return true;
    if (this.rate !== null && (this.nextIndex * 1000) / this.rate >= this.durationMs) return true;
    const first = this.decoded[0] ?? this.fromMemory();
    if (first === undefined) return this.exhausted || (this.rate === null && this.elapsed() >= this.durationMs);
    return this.rate === null && first.at - this.t0 >= this.durationMs;
  }

  /** Until the next capture time, a frame arrives from the decoder, or stop(). */
  async wait(): Promise<void> {
    if (this.finished()) return;
    const first = this.decoded[0] ?? this.fromMemory();
    if (first === undefined || this.rate === null) {
      // A camera's frames, and a decoder that fell behind, are captured when they arrive.
      const untilEnd = this.rate === null ? this.durationMs - this.elapsed() : Infinity;
      return this.sleep(untilEnd);
    }
    return this.sleep((this.nextIndex * 1000) / this.rate - this.elapsed());
  }

  /** Stops capturing and the decoder (ffmpeg is killed and reaped); safe to call more than once. */
  stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    this.closing ??= this.supplier.close();
    return this.closing;
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Node's timers fire on whole milliseconds, late by up to one, which would
   * pass for queueing delay: the timer wakes a little early and the rest is
   * waited in a blocking, idle Atomics.wait, as short as a camera's own
   * wake-up. Decoder messages and signals wait that little too.
   */
  private sleep(ms: number): Promise<void> {
    const until = performance.now() + ms;
    return new Promise<void>((resolve) => {
      const finish = () => {
        const rest = until - performance.now();
        if (rest > 0 && !this.stopped) Atomics.wait(SLEEPER, 0, 0, rest);
        this.notify();
      };
      const timer = Number.isFinite(ms) ? setTimeout(finish, Math.max(0, ms - PRECISE_WAIT_MS)) : undefined;
      this.wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.supplier.nextNow) return;
    this.pumping = true;
    try {
      // A camera is read as fast as it delivers: holding its frames back would only move the drops into the kernel.
      while (!this.stopped && !this.exhausted && (this.rate === null || this.decoded.length < this.ahead)) {
        const data = await this.supplier.next();
        if (data === undefined) this.exhausted = true;
        else if (!this.stopped) this.decoded.push({ data, at: performance.now() });
        this.notify();
      }
    } catch (e) {
      this.failure = e;
      this.exhausted = true;
      this.notify();
    } finally {
      this.pumping = false;
    }
  }
}
