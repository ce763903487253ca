import type { Backend, LoadOptions, Session, StateArrays } from '../backends/backend.js';
import type { ResolvedModel } from '../models/resolve.js';
import { StreamStepper, type StepTiming } from '../stream/stream.js';

/**
 * Where N streams keep their states between their steps. A session holds one stream's states (a TFLite state
 * is only valid until the interpreter's next call), so either each stream gets a session of its own, or one
 * session serves all of them and each stream's states are copied out after its step and back in before its
 * next one. Which serves more streams depends on the runtime: it is measured, not assumed.
 */
export const STATE_PLACEMENTS = ['sessions', 'save-restore'] as const;
export type StatePlacement = (typeof STATE_PLACEMENTS)[number];

export interface StreamStates {
  readonly placement: StatePlacement;
  readonly streams: number;
  /** One step of stream `s`; `ms` is step() alone, `serviceMs` includes moving its states in and out. */
  step(s: number, frame: Float32Array): Promise<StepTiming & { serviceMs: number }>;
  /**
   * Steps every session `count` times on `frame` outside any stream, so no stream's first frame pays a
   * session's cold start (allocations, kernel selection); the streams themselves still start from zero state.
   */
  warm(frame: Float32Array, count: number): Promise<void>;
  /** The runtime facts of the (first) session, for the report. */
  readonly session: Session;
  close(): void;
}

/** Bytes of one stream's states: what save-restore keeps outside the runtime per stream. */
export function stateBytes(model: ResolvedModel): number {
  return model.signature.states.reduce((a, s) => a + s.input.shape.reduce((x, y) => x * y, 1) * 4, 0);
}

async function warmSession(session: Session, frame: Float32Array, count: number): Promise<void> {
  const stepper = new StreamStepper(session);
  try {
    for (let i = 0; i < count; i++) await stepper.step(frame);
  } finally {
    stepper.close();
  }
}

class SessionPerStream implements StreamStates {
  readonly placement = 'sessions';
  private readonly steppers: StreamStepper[];

  constructor(private readonly sessions: Session[]) {
    this.steppers = sessions.map((s) => new StreamStepper(s));
  }

  get streams(): number {
    return this.sessions.length;
  }

  get session(): Session {
    return this.sessions[0]!;
  }

  async warm(frame: Float32Array, count: number): Promise<void> {
    for (const s of this.sessions) await warmSession(s, frame, count);
  }

  async step(s: number, frame: Float32Array) {
    const t0 = performance.now();
    const r = await this.steppers[s]!.step(frame);
    return { ...r, serviceMs: performance.now() - t0 };
  }

  close(): void {
    for (const st of this.steppers) st.close();
    for (const s of this.sessions) s.dispose();
  }
}

class SaveRestore implements StreamStates {
  readonly placement = 'save-restore';
  private readonly saved: StateArrays[];

  constructor(
    readonly session: Session,
    readonly streams: number,
  ) {
    const zero = session.initialState();
    const values = session.readState(zero);
    session.release(zero);
    this.saved = Array.from({ length: streams }, () => values);
  }

  warm(frame: Float32Array, count: number): Promise<void> {
    return warmSession(this.session, frame, count);
  }

  async step(s: number, frame: Float32Array) {
    const t0 = performance.now();
    const state = this.session.stateFrom(this.saved[s]!);
    const t1 = performance.now();
    const out = await this.session.step(frame, state);
    const ms = performance.now() - t1;
    this.saved[s] = this.session.readState(out.state);
    this.session.release(out.state);
    return { logits: out.logits, ms, serviceMs: performance.now() - t0 };
  }

  close(): void {
    this.session.dispose();
  }
}

/**
 * N streams' states on `backend`, placed as asked. Sessions are loaded one after another; a failed load frees the
 * rest.
 */
export async function openStreamStates(
  backend: Backend,
  model: ResolvedModel,
  streams: number,
  placement: StatePlacement,
  opts: LoadOptions,
): Promise<StreamStates> {
  if (placement === 'save-restore') return new SaveRestore(await backend.load(model, opts), streams);
  const sessions: Session[] = [];
  try {
    for (let i = 0; i < streams; i++) sessions.push(await backend.load(model, opts));
  } catch (e) {
    for (const s of sessions) s.dispose();
    throw e;
  }
  return new SessionPerStream(sessions);
}
