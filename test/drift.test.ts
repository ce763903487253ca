import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Backend, Session } from '../src/backends/backend.js';
import { getBackend, registerBackend } from '../src/backends/index.js';
import { compareWeights } from '../src/drift/weights.js';
import { fillUpFrames, liveStates, longestBuffer, stateGroup } from '../src/drift/network.js';
import { streamTrend, studentQuantile } from '../src/metrics/trend.js';
import { ensureArchModel } from '../src/models/arch/index.js';
import { resolveModel } from '../src/models/resolve.js';
import { compareReports } from '../src/report/compare.js';
import { renderHtml } from '../src/report/html.js';
import { DriftReportSchema, readReport, type DriftReport } from '../src/report/schema.js';
import { reportTable } from '../src/report/table.js';
import { driftReport, type DriftRequest } from '../src/run/drift.js';
import { createProgress } from '../src/util/progress.js';
import { cli, CUSTOM_MODEL, isOneLineError, shortClip, tempDir } from './helpers.js';

const tmp = tempDir('movinet-drift-');
/** The first seconds of two real clips (15 and 20 frames): streams chain them, crossing from one into the other. */
const csv = path.join(tmp, 'two.csv');
const arm = shortClip('arm_wrestling__mmaction2-demo.mp4', 3);
fs.writeFileSync(csv, `${arm},arm wrestling\n${shortClip('tai_chi__mmskeleton-ta_chi.mp4', 4)},tai chi\n`);
const DYNAMIC = path.join(path.dirname(CUSTOM_MODEL), 'a0_stream_finetuned_7class_dynamic.tflite');

const request = (over: Partial<DriftRequest>): DriftRequest => ({
  model: 'a0',
  backend: 'onnxruntime-exact',
  reference: 'a0',
  dataset: csv,
  framesPerStream: 20,
  counterfactual: true,
  threads: 1,
  resize: 'crop',
  fps: 5,
  progress: createProgress(true, 'frames'),
  ...over,
});

/**
 * The synthetic pair: A0 on tfjs-tflite, but every state it returns has one state pushed off by a fixed amount, so
 * the error enters there and nowhere else. The wrapper is a backend registered here: production code has no hook.
 */
const INJECTED = 'state_block2_layer1_stream_buffer';
const inner = getBackend('tfjs-tflite');
function injecting(s: Session): Session {
  return {
    threads: s.threads,
    runtime: s.runtime,
    initialState: () => s.initialState(),
    stateFrom: (values) => s.stateFrom(values),
    async step(frame, state) {
      const out = await s.step(frame, state);
      const values = s.readState(out.state);
      s.release(out.state);
      const pushed = values.get(INJECTED)!.map((v) => v + 0.5);
      values.set(INJECTED, pushed);
      return { logits: out.logits, state: s.stateFrom(values) };
    },
    readState: (state) => s.readState(state),
    release: (state) => s.release(state),
    bareLoop: (frames, count) => s.bareLoop(frames, count),
    dispose: () => s.dispose(),
  };
}
const injected: Backend = {
  ...inner,
  name: 'drift-test-injected',
  load: async (model, opts) => injecting(await inner.load(model, opts)),
};
registerBackend(injected);

test('trend: a noisy line grows, a constant is bounded with a zero-width interval, t quantiles are right', (t) => {
  t.is(Number(studentQuantile(0.975, 10).toFixed(3)), 2.228);
  t.is(Number(studentQuantile(0.975, 1).toFixed(3)), 12.706);
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const growing = Array.from({ length: 5 }, () => Array.from({ length: 100 }, (_, i) => 1 + 0.01 * i + noise()));
  const g = streamTrend(growing, 10);
  t.is(g.verdict, 'grows');
  t.true(g.low < 0.01 && 0.01 < g.high, `${g.low} ${g.high}`);
  const flat = streamTrend([Array(50).fill(0), Array(50).fill(0)], 4);
  t.deepEqual([flat.verdict, flat.slopePerFrame, flat.low, flat.high], ['bounded', 0, 0, 0]);
  const one = streamTrend([Array.from({ length: 100 }, (_, i) => 0.02 * i + noise())], 0);
  t.is(one.verdict, 'grows', 'one stream: its own slope, widened for autocorrelation, still excludes zero');
});

test('A0 states: 13 live of 43, grouped by block and kind; the fill-up is the longest buffer or a tenth', (t) => {
  const a0 = resolveModel('a0');
  const { live, passThrough } = liveStates(a0);
  t.is(live.length, 13);
  t.is(passThrough.length, 30);
  t.is(longestBuffer(live), 4);
  t.is(fillUpFrames(live, 20), 4);
  t.is(fillUpFrames(live, 300), 30);
  t.is(stateGroup('state_block3_layer2_stream_buffer'), 'block3 stream buffer');
  t.is(stateGroup('state_head_pool_buffer'), 'head pool buffer');
});

test('an error injected into one state ranks that state first', async (t) => {
  const report = await driftReport(
    request({ backend: injected.name, referenceBackend: 'tfjs-tflite', counterfactual: false }),
  );
  const r = report.results[0]!;
  t.is(r.states[0]!.name, INJECTED, r.states.map((s) => `${s.name} ${s.mean}`).join(', '));
  t.is(r.verdict.topStates[0], INJECTED);
  // The push is fixed: 0.5 in a state stored in steps of 6/255 is about 21 steps, far above any carried error.
  t.true(r.states[0]!.mean > 10, String(r.states[0]!.mean));
  t.true(r.states[1]!.mean < r.states[0]!.mean / 2);
  t.regex(r.inside.note ?? '', /drift-test-injected is not an ONNX graph/);
});

test('an identical pair reports zero error and "bounded"', async (t) => {
  // The exact graph is bit-exact with TFLite's int8 kernels: the two sides compute the same numbers.
  const report = await driftReport(request({ referenceBackend: 'tfjs-tflite', framesPerStream: 30 }));
  const r = report.results[0]!;
  t.is(r.reference.sameNetwork.how, 'same-file');
  t.is(r.logits.maxAbs, 0);
  t.is(r.logits.meanAbs, 0);
  t.is(r.logits.top1Agreement, 1);
  t.is(r.verdict.growth, 'bounded');
  t.deepEqual([r.logits.trend.low, r.logits.trend.high], [0, 0]);
  t.true(r.states.length === 13 && r.states.every((s) => s.max === 0 && s.trend.verdict === 'bounded'));
  t.deepEqual(r.verdict.topStates, []);
  t.is(r.counterfactual?.difference, 0);
  t.is(r.counterfactual?.top1Agreement, 1);
});

test('weights: the fine-tuned int8 and dynamic builds are one network; A0 and its generated twin are not', (t) => {
  const same = compareWeights(resolveModel(CUSTOM_MODEL), resolveModel(DYNAMIC));
  if (typeof same === 'string') return t.fail(same);
  t.is(same.tensors, 94);
  t.is(same.within, 1);
  const arch = ensureArchModel('a0-arch').path!;
  const other = compareWeights(resolveModel('a0'), resolveModel(arch));
  if (typeof other === 'string') return t.fail(other);
  t.is(other.tensors, 64, 'the same architecture: every filter pairs');
  t.true(other.within < 0.5, String(other.within));
});

test('mismatched networks are refused in one line, exit 2, and nothing is written', (t) => {
  const out = path.join(tmp, 'refused.json');
  const byClasses = cli(['drift', '--model', 'a0', '--reference', CUSTOM_MODEL, '--dataset', csv, '--out', out]);
  t.is(byClasses.code, 2, byClasses.stderr);
  t.true(isOneLineError(byClasses.stderr), byClasses.stderr);
  t.regex(byClasses.stderr, /is not the same network as a0-int8: a0-int8 gives 600 classes/);
  const arch = ensureArchModel('a0-arch').path!;
  const byWeights = cli(['drift', '--model', 'a0', '--reference', arch, '--dataset', csv, '--out', out]);
  t.is(byWeights.code, 2, byWeights.stderr);
  t.true(isOneLineError(byWeights.stderr), byWeights.stderr);
  t.regex(byWeights.stderr, /not the same network as a0-int8: .* filter values agree within a quantization step/);
  t.false(fs.existsSync(out));
});

test('end to end on A0: two clips chained into 50-frame streams against the dequantized graph', (t) => {
  const out = path.join(tmp, 'a0.json');
  const r = cli(['drift', '--dataset', csv, '--frames', '50', '--out', out, '--json']);
  t.is(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as DriftReport;
  t.true(DriftReportSchema.safeParse(printed).success, 'what --json prints is a drift report');
  const report = readReport(out);
  if (report.kind !== 'drift') return t.fail(report.kind);
  t.is(report.schemaVersion, 6);
  const x = report.results[0]!;
  t.is(x.reference.kind, 'dequantized');
  t.is(x.reference.backend, 'onnxruntime-float');
  t.is(x.streams.length, 2);
  t.true(
    x.streams.every((s) => s.frames === 50 && s.clips.length >= 2),
    'each stream runs on into the next clip',
  );
  t.is(x.logits.perFrame.meanAbs.length, 50);
  t.is(x.logits.perFrame.referenceMargin.length, 50);
  t.true(x.logits.referenceMargin > 0, "the reference's top-1 stands above its second");
  t.true(x.logits.meanAbs > 0, 'float activations are not int8 ones');
  t.is(x.states.length, 13);
  t.is(x.passThrough.length, 30);
  t.true(
    x.states.every((s, i) => i === 0 || x.states[i - 1]!.mean >= s.mean),
    'ranked, the most error first',
  );
  t.true(x.groups.some((g) => g.name === 'head pool buffer'));
  t.truthy(x.counterfactual);
  t.is(x.inside.note, null);
  t.is(x.fillUp, 5, "a tenth of the stream: longer than A0's longest buffer");
  t.deepEqual(x.inside.frames, [5, 49]);
  t.true(x.inside.tensors > 100 && x.inside.byOp.length > 5);
  t.true(x.inside.byOp.some((o) => o.op === 'CONV_2D'));
  t.regex(reportTable(report), /logits error with frames: (grows|bounded|shrinks)/);
  const verdict = compareReports(report, report);
  t.is(verdict.regressions, 0);
  t.true(verdict.rows.length > 0 && verdict.rows.every((row) => row.verdict === 'informative' && !row.gates));
});

test('the page has the drift section with both charts', async (t) => {
  const report = await driftReport(request({ reference: 'dequantized', referenceBackend: 'onnxruntime-float' }));
  const html = await renderHtml([report]);
  t.regex(html, /<section id="drift">/);
  t.regex(html, /id="drift-run-1-0-states"/);
  t.regex(html, /id="drift-run-1-0-top1"/);
  t.regex(html, /top-1 agreement with the reference/);
});
