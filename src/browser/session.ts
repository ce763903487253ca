import type { Backend, Session, State } from '../backends/backend.js';
import { getBackend } from '../backends/index.js';
import { packageVersion } from '../backends/package-info.js';
import type { ResolvedModel } from '../models/resolve.js';
import {
  browserBackendName,
  checkBrowserRuntime,
  enforcement,
  loadedBuild,
  packageOf,
  pageModel,
  type ChromiumTarget,
} from './chromium.js';
import type { PageParityRequest } from './protocol.js';

/**
 * A runtime in a Chromium page behind the ordinary Backend interface, stepped
 * one frame per round trip: for parity, where only logits matter. The round
 * trip would swamp a timing, so bench never uses this (it times in the page).
 */
export function browserBackend(target: ChromiumTarget, name: string): Backend {
  return {
    name: browserBackendName(name),
    // The page runs the runtime's browser build; no probe in Node stands for it.
    facts: { ...getBackend(name).facts, probe: null },
    maxThreads: 1,
    async load(model: ResolvedModel, opts): Promise<Session> {
      const runtime = checkBrowserRuntime(name, opts.threads);
      const loaded = pageModel(model, runtime, opts.cache ?? true);
      const page = await target.openPage(loaded.bytes, runtime, opts.threads);
      const req: PageParityRequest = {
        runtime,
        threads: opts.threads,
        signature: model.signature,
        frameCount: 1,
        ...(loaded.onnx ? { onnx: loaded.onnx } : {}),
      };
      try {
        await page.evaluate('(req) => movinetBench.openSession(req)', req);
      } catch (e) {
        await page.close();
        throw e;
      }
      const owner = {};
      let current: State | null = null;
      let fresh = true;
      const unsupported = (what: string) => new Error(`${what} is not available for a runtime in the browser`);
      return {
        threads: { requested: opts.threads, enforcement: enforcement(runtime, opts.threads) },
        runtime: {
          package: packageOf(runtime),
          version: packageVersion(packageOf(runtime)),
          build: loadedBuild(runtime, page.served(), opts.threads) + loaded.note,
        },
        initialState() {
          // The page holds the real state; a new stream starts from zero there on its next step.
          fresh = true;
          current = { owner };
          return current;
        },
        stateFrom: () => {
          throw unsupported('stateFrom');
        },
        async step(frame, state) {
          if (state !== current) throw new Error('this state was already stepped or released');
          page.setFrames([frame]);
          const logits = Float32Array.from(
            await page.evaluate<number[]>('(fresh) => movinetBench.stepFrame(fresh)', fresh),
          );
          fresh = false;
          current = { owner };
          return { logits, state: current };
        },
        readState: () => {
          throw unsupported('readState');
        },
        release(state) {
          if (state === current) current = null;
        },
        bareLoop: () => Promise.reject(unsupported('bareLoop')),
        dispose() {
          // dispose() cannot wait; the browser may close first, which frees the page anyway.
          void page
            .evaluate('() => movinetBench.closeSession()', null)
            .then(() => page.close())
            .catch(() => undefined);
        },
      };
    },
  };
}
