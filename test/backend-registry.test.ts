import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Backend } from '../src/backends/backend.js';
import { getBackend, registerBackend } from '../src/backends/index.js';
import { bench } from '../src/api/index.js';
import { parityReport } from '../src/run/parity.js';
import { createProgress } from '../src/util/progress.js';
import { renderHtml } from '../src/report/html.js';
import { benchTable } from '../src/report/table.js';
import { probeFor } from '../src/bench/roofline.js';
import { checkBrowserRuntime } from '../src/browser/chromium.js';
import { shortClip, tempDir } from './helpers.js';

/**
 * Adding a backend is one registered module: a runtime nobody else knows by name, described only by its facts,
 * runs through bench, parity and the report. It steps the real A0 on tfjs-tflite's interpreter under another
 * name and other facts, so every consumer has to read the facts rather than recognise the name.
 */
const real = getBackend('tfjs-tflite');
const fake: Backend = {
  name: 'acme-tflite',
  facts: {
    ...real.facts,
    runtime: 'acme-runtime',
    browser: { instead: 'tfjs-tflite', because: "Acme's runtime, which has no browser build" },
  },
  maxThreads: 1,
  load: (model, opts) => real.load(model, opts),
};
registerBackend(fake);

/** onnxruntime's fp32 graph under a name no consumer knows: parity --locate must find its graph by its facts. */
const onnx = getBackend('onnxruntime-float');
registerBackend({ ...onnx, name: 'acme-onnx', load: (model, opts) => onnx.load(model, opts) });

test('a registered backend is benched, with the roofline its facts name', async (t) => {
  const report = await bench({ models: ['a0'], backends: ['acme-tflite'], frames: 20, warmup: 2, overhead: false });
  t.is(report.results.length, 1);
  const row = report.results[0]!;
  t.is(row.backend, 'acme-tflite');
  t.is(row.stats.count, 20);
  t.truthy(row.roofline, 'the probe its facts name measured the peak');
  t.deepEqual(probeFor('acme-tflite', true), { runtime: 'tfjs-tflite', dtype: 'int8' });
  t.regex(benchTable(report), /acme-tflite/);
  const html = await renderHtml([report]);
  t.regex(html, /acme-tflite/);
});

test('registered backends take part in parity, and --locate finds their graph by their facts', async (t) => {
  const csv = path.join(tempDir('movinet-registry-'), 'one.csv');
  fs.writeFileSync(csv, `${shortClip('arm_wrestling__mmaction2-demo.mp4', 3)},arm wrestling\n`);
  const report = await parityReport({
    models: ['a0'],
    backends: ['tfjs-tflite', 'acme-tflite', 'acme-onnx'],
    dataset: csv,
    minAgreement: 0.99,
    resize: 'crop',
    fps: 5,
    threads: 1,
    locate: true,
    progress: createProgress(true, 'frames'),
  });
  const same = report.pairs.find((p) => p.backend === 'acme-tflite');
  t.is(same?.maxAbsLogitDiff, 0, 'the same interpreter under another name: identical logits');
  const other = report.pairs.find((p) => p.backend === 'acme-onnx');
  const located = other?.clips.find((c) => c.locate);
  t.truthy(located, 'the fp32 graph parts from TFLite somewhere on the clip');
  t.truthy(located!.locate!.tensor, `its ONNX graph was probed: ${located!.locate!.tensorNote ?? ''}`);
});

test('a registered name cannot be taken twice, and the browser target reads its facts', (t) => {
  t.throws(() => registerBackend(fake), { message: /a backend named 'acme-tflite' exists/ });
  t.throws(() => checkBrowserRuntime('acme-tflite', 1), {
    message: "backend acme-tflite is Acme's runtime, which has no browser build; in chromium use tfjs-tflite",
  });
});
