import type { Backend, Session } from './backend.js';

/**
 * The `ab` self-test's known regression: every step() spins until it has taken `fraction` longer, so a
 * power measurement can seed a slow-down of a set size. It wraps a backend from outside; the stepper and
 * the sessions never see it.
 */
export function slowedBackend(backend: Backend, fraction: number): Backend {
  return {
    name: backend.name,
    facts: backend.facts,
    noProfiler: backend.noProfiler,
    maxThreads: backend.maxThreads,
    maxThreadsWhy: backend.maxThreadsWhy,
    ...(backend.available ? { available: () => backend.available!() } : {}),
    load: async (model, opts) => slowedSession(await backend.load(model, opts), fraction),
  };
}

function slowedSession(s: Session, fraction: number): Session {
  return {
    get threads() {
      return s.threads;
    },
    get runtime() {
      return s.runtime;
    },
    get profiler() {
      return s.profiler;
    },
    initialState: () => s.initialState(),
    stateFrom: (values) => s.stateFrom(values),
    async step(frame, state) {
      const t0 = performance.now();
      const out = await s.step(frame, state);
      const until = t0 + (performance.now() - t0) * (1 + fraction);
      while (performance.now() < until);
      return out;
    },
    readState: (state) => s.readState(state),
    release: (state) => s.release(state),
    bareLoop: (frames, count) => s.bareLoop(frames, count),
    dispose: () => s.dispose(),
  };
}
