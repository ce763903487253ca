import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/browser/chromium.js';
import test from 'ava';
import { chromium, type Browser } from 'playwright-core';
import { renderHtml } from '../src/report/html.js';
import {
  cdfPoints,
  frameBins,
  binSize,
  runBoundaries,
  MAX_CDF_POINTS,
  MAX_FRAME_BINS,
} from '../src/report/html/downsample.js';
import { readReport, type BenchReport, type Report } from '../src/report/schema.js';
import { cli, lookDir, shortClip, tempDir } from './helpers.js';

const CHROMIUM = CHROMIUM_PATH;
const tmp = tempDir('movinet-html-');
const look = lookDir('html');

/** A dataset of the first seconds of real clips: the page shows what the runs report, whatever their length. */
function csv(name: string, clips: readonly (readonly [string, string])[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, clips.map(([label, f]) => `${shortClip(f, 3)},${label}`).join('\n'));
  return file;
}

/** Runs one command of the CLI into a report; they run one after another, as two cores allow. */
function run(args: string[], out: string): Report {
  const r = cli([...args, '--out', out]);
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return readReport(out);
}

let reports: Report[] = [];
let bench: BenchReport;
let baseline: BenchReport;
let html = '';

test.before(async () => {
  bench = run(
    [
      'bench',
      '--models',
      'a0,a1',
      '--skip-missing',
      '--backends',
      'tfjs-tflite,onnxruntime',
      '--frames',
      '30',
      '--repeats',
      '2',
      '--warmup',
      '5',
      '--processes',
      '2',
    ],
    path.join(tmp, 'bench.json'),
  ) as BenchReport;
  const accuracy = run(
    [
      'accuracy',
      '--backends',
      'tfjs-tflite,onnxruntime',
      '--dataset',
      csv('acc.csv', [
        ['arm wrestling', 'arm_wrestling__mmaction2-demo.mp4'],
        ['tai chi', 'tai_chi__mmskeleton-ta_chi.mp4'],
        ['yoga', 'yoga__Ask-Anything-yoga.mp4'],
      ]),
    ],
    path.join(tmp, 'accuracy.json'),
  );
  const parity = run(
    [
      'parity',
      '--backends',
      'tfjs-tflite,onnxruntime-exact',
      '--dataset',
      csv('parity.csv', [
        ['arm wrestling', 'arm_wrestling__mmaction2-demo.mp4'],
        ['windsurfing', 'windsurfing__video-segmentation-surf.mp4'],
      ]),
    ],
    path.join(tmp, 'parity.json'),
  );
  reports = [bench, accuracy, parity];
  baseline = structuredClone(bench);
  html = await renderHtml(reports, { baseline });
  fs.writeFileSync(path.join(look, 'summary.html'), html);
});

test('the page is self-contained: no executed script, no external asset, each chart with its spec as data', (t) => {
  const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1]!);
  t.true(scripts.length > 0);
  t.true(
    scripts.every((attrs) => /\btype="application\/json"/.test(attrs)),
    scripts.join('\n'),
  );
  t.notRegex(html, /<(link|img|iframe|object|embed)\b/i);
  t.notRegex(html, /\b(src|href)="(https?:)?\/\//i);
  t.notRegex(html, /@import|url\((?!#)/);
  const figures = [...html.matchAll(/<figure class="chart" id="([^"]+)">/g)].map((m) => m[1]!);
  t.deepEqual(figures, ['cdf-a0-int8', 'frames-a0-int8', 'accuracy-vs-latency', 'top1-seen-a0-int8']);
  for (const id of figures) {
    const json = new RegExp(
      `<script type="application/json" class="vega-lite-spec" data-chart="${id}">([^<]*)</script>`,
    ).exec(html);
    t.truthy(json, id);
    const spec = JSON.parse(json![1]!) as { $schema: string };
    t.regex(spec.$schema, /vega-lite/);
  }
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]!);
  t.is(new Set(ids).size, ids.length, 'element ids are unique across the inline SVGs');
  t.log(`page: ${(html.length / 1024).toFixed(0)} KiB for ${reports.length} reports, in ${look}`);
});

test('bench rows carry the roofline probe into a section of the page', (t) => {
  t.true(bench.results.every((r) => r.roofline !== undefined && r.roofline.probe.runtime === r.backend));
  t.regex(html, /<section id="roofline"><h2>Roofline: achieved GMAC\/s beside this CPU<\/h2>/);
  t.regex(html, /of the int8 probe [\d.]+ GMAC\/s/);
});

test('the summary gives per model the fastest backend, top-1 with its interval, parity and the baseline verdicts', (t) => {
  const results = [...bench.results].sort((a, b) => a.stats.p50 - b.stats.p50);
  const summary = /<section id="summary">([\s\S]*?)<\/section>/.exec(html)![1]!;
  t.regex(summary, new RegExp(`<b>${results[0]!.backend}</b>: p50 <b>${results[0]!.stats.p50.toFixed(2)} ms</b>`));
  t.regex(summary, /top-1<\/dt><dd>.*\(\d+\.\d%–\d+\.\d%\)/);
  t.regex(summary, /on 3 clips of acc/);
  t.regex(summary, /passed<\/b> onnxruntime-exact vs tfjs-tflite: 2\/2 clips/);
  // Two processes per side cannot reach alpha 0.01: compare says inconclusive, never "regression".
  t.regex(summary, /0 regressions<\/b>, 0 improvements, 4 inconclusive/);
  t.regex(summary, /✓ Nothing failed/);
  // A1 is not in the shared models: asked for, skipped, and still listed.
  t.regex(
    summary,
    /<h3>a1-int8<\/h3><dl><dt>not run<\/dt><dd>2 pairs: tfjs-tflite \(skipped, missing\), onnxruntime \(skipped, missing\)/,
  );
  t.regex(html, /<details class="notrun"><summary>2 pairs skipped<\/summary>/);
  t.regex(html, /Pixel 4 \(source page\)/);
  t.regex(html, /full Kinetics-600 validation set/);
  t.regex(html, /<th scope="col" class="text">backend<\/th>/, 'text columns are left-aligned');
  t.regex(html, /<th scope="col">Pixel 4 ms<\/th>/, 'wide columns are shown');
});

test('a pair that failed turns the verdict and is listed under its report', async (t) => {
  // The real report with its second result recorded as failed, as a crash during that pair would leave it.
  const broken = structuredClone(bench);
  const gone = broken.results.pop()!;
  broken.failed.push({ model: gone.model.id, backend: gone.backend, error: 'the runtime crashed' });
  const page = await renderHtml([broken]);
  t.regex(page, /✗ Needs attention<\/b>: 1 pair failed to run/);
  t.regex(page, /<details class="notrun failed"><summary>2 pairs skipped, 1 pair failed<\/summary>/);
  t.regex(page, new RegExp(`failed a0-int8 \\(${gone.backend}\\): the runtime crashed`));
});

test('run boundaries follow the processes and repeats of a real result', (t) => {
  const r = bench.results[0]!;
  t.deepEqual(
    r.processes.map((p) => p.samples),
    [60, 60],
  );
  t.deepEqual(runBoundaries(r, bench.config.frames), [
    { frame: 29.5, kind: 'repeat' },
    { frame: 59.5, kind: 'process' },
    { frame: 89.5, kind: 'repeat' },
  ]);
});

/** A real result's samples repeated to a million, as a long run would give. */
function millionSampleReport(): BenchReport {
  const big = structuredClone(bench);
  const n = 1_000_000;
  for (const r of big.results) {
    const real = r.samplesMs;
    r.samplesMs = Array.from({ length: n }, (_, i) => real[i % real.length]!);
    r.processes = r.processes.map((p) => ({ ...p, samples: n / r.processes.length }));
    r.stats = { ...r.stats, count: n };
  }
  return big;
}

test('a million samples per result still make a small page: CDF quantiles and per-frame bins are bounded', async (t) => {
  const big = millionSampleReport();
  const samples = big.results[0]!.samplesMs;
  const cdf = cdfPoints(samples);
  t.true(cdf.length <= MAX_CDF_POINTS);
  t.is(cdf[0]!.ms, Math.min(...bench.results[0]!.samplesMs));
  t.is(cdf.at(-1)!.p, 1);
  t.true(cdf.every((pt, i) => i === 0 || (pt.ms >= cdf[i - 1]!.ms && pt.p > cdf[i - 1]!.p)));
  const bins = frameBins(samples, binSize(samples.length));
  t.true(bins.length <= MAX_FRAME_BINS);
  t.true(bins.every((b) => b.min <= b.median && b.median <= b.max));
  const page = await renderHtml([big]);
  t.true(page.length < 600_000, `${page.length} bytes`);
  t.regex(page, /Repeat boundaries are too many to draw/);
  t.log(`page for 2 results of 1,000,000 samples: ${(page.length / 1024).toFixed(0)} KiB`);
});

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  offenders: string[];
  charts: { id: string; marks: number; drawn: number }[];
  tables: number;
  codeScripts: number;
}

/**
 * Runs in the page. A string, because the project compiles without the DOM
 * library: `document` in a test must not make it into src/ unchecked.
 */
const LAYOUT = `(() => {
  const vw = document.documentElement.clientWidth;
  const scrolls = (el) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);
  const offenders = [];
  for (const el of document.querySelectorAll('body *')) {
    // Inside a horizontal scroller, the scroller is what must fit (and it is checked itself).
    let up = el.parentElement;
    while (up && !scrolls(up)) up = up.parentElement;
    if (up) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -0.5 || r.right > vw + 0.5)
      offenders.push(el.tagName.toLowerCase() + '.' + (el.getAttribute('class') || '') + ' ' + r.left + '-' + r.right);
  }
  const charts = [...document.querySelectorAll('figure.chart svg')].map((svg) => {
    const marks = [...svg.querySelectorAll('g.role-mark:not(.mark-text)')];
    const drawn = marks.flatMap((g) => [...g.children].filter((c) => {
      const b = c.getBBox();
      return b.width > 0 || b.height > 0;
    }));
    return { id: svg.closest('figure').id, marks: marks.length, drawn: drawn.length };
  });
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    offenders,
    charts,
    tables: [...document.querySelectorAll('table')].filter((t) => !t.parentElement.classList.contains('scroll')).length,
    codeScripts: [...document.scripts].filter((s) => s.type !== 'application/json').length,
  };
})()`;

async function launch(t: { fail(message: string): void }): Promise<Browser | null> {
  if (!fs.existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
    return null;
  }
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

test('in Chromium at 800, 1024 and 1400 px: nothing wider than the viewport, every chart drawn, no error', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  try {
    for (const width of [800, 1024, 1400]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
      });
      await page.goto(`file://${path.join(look, 'summary.html')}`);
      const layout = (await page.evaluate(LAYOUT)) as Layout;
      t.true(layout.scrollWidth <= layout.innerWidth, `${width}: scrollWidth ${layout.scrollWidth}`);
      t.deepEqual(layout.offenders, [], `${width}: elements beyond the viewport`);
      t.is(layout.charts.length, 4);
      for (const c of layout.charts) t.true(c.marks > 0 && c.drawn > 0, `${width}: chart ${c.id} draws nothing`);
      t.is(layout.tables, 0, 'every table sits in a scroll container');
      t.is(layout.codeScripts, 0);
      t.deepEqual(problems, []);
      if (width !== 800) await page.screenshot({ path: path.join(look, `summary-${width}.png`), fullPage: true });
      await page.close();
    }
    t.log(`screenshots: ${look}`);
  } finally {
    await browser.close();
  }
});
