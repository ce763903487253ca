/**
 * Soak benchmark (not a test): streams many frames per backend, each backend
 * in its own process, sampling RSS every 500 frames. Reports RSS growth after
 * warm-up and the p50 drift between the first and last 1,000 frames, so leaks
 * and slow-downs over a long stream show. Usage (after `npm run build`):
 *   node dist/scripts/soak.js [--backends tfjs-tflite,litert,onnxruntime] [--frames 10000] [--model a0]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getBackend } from '../src/backends/index.js';
import { median } from '../src/metrics/stats.js';
import { resolveModel } from '../src/models/resolve.js';
import { StreamStepper } from '../src/stream/stream.js';
import { telemetryOffEnv } from '../src/util/ort-telemetry.js';
import { syntheticFrames } from '../src/video/synthetic.js';

const SAMPLE_EVERY = 500;
const WARMUP = 500;
const WINDOW = 1000;

interface Soak {
  backend: string;
  frames: number;
  rssMB: { frame: number; rss: number; heap: number }[];
  rssGrowthMB: number;
  p50FirstMs: number;
  p50LastMs: number;
  p50DriftPct: number;
}

async function soakOne(modelRef: string, backendName: string, frames: number): Promise<Soak> {
  const model = resolveModel(modelRef);
  const session = await getBackend(backendName).load(model, { threads: 1 });
  const input = syntheticFrames(64, model.signature.height);
  const stepper = new StreamStepper(session);
  const mb = (n: number) => n / 2 ** 20;
  const rss: Soak['rssMB'] = [];
  const times: number[] = [];
  for (let i = 0; i < WARMUP + frames; i++) {
    const { ms } = await stepper.step(input[i % input.length]!);
    if (i >= WARMUP) times.push(ms);
    if (i >= WARMUP && (i - WARMUP) % SAMPLE_EVERY === 0) {
      const m = process.memoryUsage();
      rss.push({ frame: i - WARMUP, rss: mb(m.rss), heap: mb(m.heapUsed) });
    }
  }
  const m = process.memoryUsage();
  rss.push({ frame: frames, rss: mb(m.rss), heap: mb(m.heapUsed) });
  stepper.close();
  session.dispose();
  const first = median(times.slice(0, WINDOW))!;
  const last = median(times.slice(-WINDOW))!;
  return {
    backend: backendName,
    frames,
    rssMB: rss,
    // Medians of the first and last five samples: RSS of the WASM runtimes swings by tens of MB between
    // garbage collections, and a single pair of readings would mistake a swing for growth.
    rssGrowthMB: median(rss.slice(-5).map((s) => s.rss))! - median(rss.slice(0, 5).map((s) => s.rss))!,
    p50FirstMs: first,
    p50LastMs: last,
    p50DriftPct: (last / first - 1) * 100,
  };
}

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'tfjs-tflite,litert,onnxruntime' },
    frames: { type: 'string', default: '10000' },
    model: { type: 'string', default: 'a0' },
    one: { type: 'string' },
  },
});
const frames = Number(values.frames);
if (values.one) {
  process.stdout.write(`${JSON.stringify(await soakOne(values.model, values.one, frames))}\n`);
} else {
  const self = fileURLToPath(import.meta.url);
  const results: Soak[] = [];
  for (const backend of values.backends.split(',')) {
    const r = spawnSync(
      process.execPath,
      [self, '--one', backend, '--frames', String(frames), '--model', values.model],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: telemetryOffEnv(),
      },
    );
    if (r.status !== 0) throw new Error(`soak of ${backend} failed (exit ${r.status})`);
    results.push(JSON.parse(r.stdout) as Soak);
  }
  for (const r of results) {
    const trace = r.rssMB.map((s) => s.rss.toFixed(0)).join(' ');
    process.stdout.write(
      `${r.backend}: ${r.frames} frames, RSS growth after warm-up ${r.rssGrowthMB.toFixed(1)} MB, ` +
        `p50 first/last ${WINDOW} frames ${r.p50FirstMs.toFixed(2)} / ${r.p50LastMs.toFixed(2)} ms (${r.p50DriftPct >= 0 ? '+' : ''}${r.p50DriftPct.toFixed(1)}%)\n  RSS MB every ${SAMPLE_EVERY} frames: ${trace}\n`,
    );
  }
}
