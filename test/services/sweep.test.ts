import path from 'node:path';
import test from 'ava';
import { minFrames } from '../../src/metrics/early-stopping.js';
import { renderHtml } from '../../src/report/html.js';
import { readReport } from '../../src/report/schema.js';
import { ARM_WRESTLING, cli, tempDir } from '../helpers.js';

/*
 * A whole capacity sweep through the CLI: trials of 662 frames or more at rising rates until one fails, on a core
 * of its own. Under the other test files' load it takes minutes and finds a lower rate, so it runs here, in
 * `npm run test:services`, beside the other checks that need a machine to themselves. The search itself is
 * tested in test/capacity-search.test.ts and test/early-stopping.test.ts.
 */
const tmp = tempDir('movinet-sweep-');

test.serial(
  '--fps auto finds the highest sustained rate of its sweep, runs and prints that rate; the page draws it',
  async (t) => {
    const out = path.join(tmp, 'auto.json');
    // onnxruntime's shorter steps mean higher rates, so the 662 frames each trial needs come sooner.
    // A busy machine sustains lower rates, whose passing trials take longer to collect their frames.
    const r = cli(
      ['live', '--input', ARM_WRESTLING, '--backend', 'onnxruntime', '--fps', 'auto', '--out', out],
      {},
      300_000,
    );
    t.is(r.code, 0, r.stderr);
    const report = readReport(out);
    if (report.kind !== 'live' || report.results.length !== 1) return t.fail(`not one live result: ${out}`);
    const run = report.results[0]!.runs[0]!;
    t.is(report.config.fps, 'auto');
    // How high the rate is depends on the machine (RESULTS.md, "live"); the sweep's structure does not.
    const sweep = run.sweep!;
    const max = run.maxSustainableFps;
    t.not(max, null, 'some rate was sustained');
    t.true(sweep.length >= 2);
    // It starts at a power-of-two multiple of the model's rate (chosen from a few unpaced steps), then doubles
    // while each rate is sustained.
    t.true(Number.isInteger(Math.log2(sweep[0]!.fps / 5)), `first rate ${sweep[0]!.fps}`);
    t.regex(r.stderr, new RegExp(`first rate ${sweep[0]!.fps} fps`));
    // Each trial is judged as a --streams step is: enough frames for the early-stopping p99 estimate, no drop,
    // and the estimate within one frame period.
    for (const p of sweep) {
      if (p.sustained) t.true(p.processed >= minFrames() && p.dropped === 0, `${p.fps} fps: ${p.processed} frames`);
      if (p.sustained) t.true(p.e2eP99EstimateMs! <= 1000 / p.fps, `${p.fps} fps: estimate ${p.e2eP99EstimateMs}`);
    }
    const climb = sweep.slice(0, sweep.findIndex((p) => !p.sustained) + 1);
    t.true(climb.length >= 1 && !climb.at(-1)!.sustained, 'the sweep went past the limit');
    climb.slice(1).forEach((p, i) => t.true(p.fps > climb[i]!.fps, `${climb[i]!.fps} then ${p.fps}`));
    // The max is the highest sustained rate tried: every rate above it failed, every rate up to it held.
    t.is(max, Math.max(...sweep.filter((p) => p.sustained).map((p) => p.fps)));
    for (const p of sweep) t.is(p.sustained, p.fps <= max!, `${p.fps} fps ${p.sustained ? 'sustained' : 'not'}`);
    t.is(run.deliveryFps as number | null, max, "the run's frames are those of the highest sustained rate");
    const printed = /max sustainable fps a0-int8 onnxruntime: ([\d.]+) /.exec(r.stdout);
    t.truthy(printed, r.stdout);
    t.is(Number(printed?.[1]), Number(max!.toFixed(1)));
    const html = await renderHtml([report]);
    t.regex(html, /id="live-sweep-run-1-0-a0-int8-onnxruntime"/);
  },
);
