import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Environment, Machine } from '../src/core/results.js';
import { compareReports } from '../src/report/compare.js';
import { renderHtml } from '../src/report/html.js';
import { cdfPoints } from '../src/report/html/downsample.js';
import { mergeBenchReports } from '../src/report/merge.js';
import { readReport, type BenchReport, type Report } from '../src/report/schema.js';
import { benchTable, comparisonTable } from '../src/report/table.js';
import { ARM_WRESTLING, cli, shortClip, tempDir } from './helpers.js';

/**
 * A page of two machines names each result with its machine, everywhere, and never draws two machines' frames as
 * one series; a page of one machine names none. The first machine is this one, labelled; the second is a copy of
 * its reports relabelled as another machine (CPU, cores, OS and label), so one short real run of each kind serves.
 */

const tmp = tempDir('movinet-html-machines-');
const HERE = 'ci-runner';
const THERE = 'pi5-standin';
const MACHINES = [HERE, THERE] as const;
const BACKENDS = ['tfjs-tflite', 'tflite-native-xnnpack'] as const;

/** Runs one command of the CLI into a report, one after another as two cores allow. */
function run(args: string[], name: string): Report {
  const out = path.join(tmp, name);
  const r = cli([...args, '--out', out]);
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return readReport(out);
}

const THERE_HARDWARE = { cpuModel: 'Cortex-A76 (stand-in)', cpuCores: 4, os: 'Linux 6.6 arm64' };

/** The environment a report made on the other machine would record. */
const elsewhere = (env: Environment): Environment => ({ ...env, ...THERE_HARDWARE });

/** A report as the other machine would have written it: its environment, and for bench its results' machine. */
function onThere(report: Report): Report {
  const copy = structuredClone(report);
  copy.environment = elsewhere(copy.environment);
  if (copy.kind === 'bench') {
    const machine: Machine = { ...copy.results[0]!.machine, ...THERE_HARDWARE, label: THERE };
    copy.results = copy.results.map((r) => ({ ...r, machine }));
  }
  return copy;
}

const decode = (s: string): string =>
  s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The visible text of some HTML: no embedded specs, tags as spaces. */
const textOf = (html: string): string =>
  decode(html.replace(/<script\b[\s\S]*?<\/script>/g, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');

function sectionOf(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  if (!m) throw new Error(`no section ${id}`);
  return m[1]!;
}

interface Figure {
  id: string;
  /** The drawn text of the SVG: axis titles, legend titles and labels. */
  svgText: string[];
  caption: string;
  spec: Record<string, unknown>;
}

function figures(html: string): Figure[] {
  return [...html.matchAll(/<figure class="chart" id="([^"]+)">([\s\S]*?)<\/figure>/g)].map((m) => {
    const body = m[2]!;
    const json = /<script type="application\/json" class="vega-lite-spec"[^>]*>([^<]*)<\/script>/.exec(body)![1]!;
    return {
      id: m[1]!,
      svgText: [...body.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => decode(t[1]!)),
      caption: textOf(/<figcaption>([\s\S]*?)<\/figcaption>/.exec(body)![1]!),
      spec: JSON.parse(json) as Record<string, unknown>,
    };
  });
}

interface SeriesChannel {
  title: unknown;
  domain: string[];
}

/** Every color channel keyed by `series` in a spec, wherever its layers put it. */
function seriesChannels(spec: unknown): SeriesChannel[] {
  if (Array.isArray(spec)) return spec.flatMap(seriesChannels);
  if (spec === null || typeof spec !== 'object') return [];
  const o = spec as Record<string, unknown>;
  const color = o.color as { field?: unknown; title?: unknown; scale?: { domain?: unknown } } | undefined;
  const own =
    color?.field === 'series' && Array.isArray(color.scale?.domain)
      ? [{ title: color.title, domain: color.scale.domain as string[] }]
      : [];
  return [...own, ...Object.values(o).flatMap(seriesChannels)];
}

/** Which of the two machines a name ends with; a name must end with exactly one. */
const machineOfName = (name: string): string | undefined => MACHINES.find((m) => name.endsWith(` @ ${m}`));

const rows = <T>(spec: Record<string, unknown>, dataset: string): T[] =>
  (spec.datasets as Record<string, T[]>)[dataset]!;

let here: BenchReport;
let merged: BenchReport;
let twoPage = '';
let onePage = '';

test.before(async () => {
  here = run(
    [
      'bench',
      ...['--models', 'a0', '--backends', BACKENDS.join(','), '--machine', HERE],
      ...['--frames', '20', '--warmup', '5', '--profile'],
    ],
    'bench.json',
  ) as BenchReport;
  const csv = path.join(tmp, 'one.csv');
  // The first seconds of a real clip: the page shows what the runs report, whatever their length.
  fs.writeFileSync(csv, `${shortClip('arm_wrestling__mmaction2-demo.mp4', 3)},arm wrestling\n`);
  const accuracy = run(['accuracy', '--backends', BACKENDS.join(','), '--dataset', csv], 'accuracy.json');
  const parity = run(['parity', '--backends', BACKENDS.join(','), '--dataset', csv], 'parity.json');
  const live = run(['live', '--input', ARM_WRESTLING, '--backend', 'tfjs-tflite', '--duration', '1'], 'live.json');
  // One merged bench report of both machines, as `reports merge` writes it; the other kinds one report per machine.
  merged = mergeBenchReports([here, onThere(here)], ['here.json', 'there.json']);
  const others = [accuracy, onThere(accuracy), parity, onThere(parity), live, onThere(live)];
  twoPage = await renderHtml([merged, ...others], { baseline: merged });
  onePage = await renderHtml([here, accuracy, parity, live], { baseline: here });
  fs.writeFileSync(path.join(tmp, 'two-machines.html'), twoPage);
  fs.writeFileSync(path.join(tmp, 'one-machine.html'), onePage);
});

test('the summary card names every result with its machine: fastest, the others, top-1, parity, the reports', (t) => {
  const card = sectionOf(twoPage, 'summary');
  const fastest = textOf(/<dt>fastest<\/dt><dd>([\s\S]*?)<\/dd>/.exec(card)![1]!);
  for (const backend of BACKENDS)
    for (const machine of MACHINES) t.is(fastest.split(`${backend} @ ${machine}`).length, 2, fastest);
  const top1 = /<dt>top-1<\/dt><dd>([\s\S]*?)<\/dd>/.exec(card)![1]!;
  const top1Items = [...top1.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => textOf(m[1]!));
  t.is(top1Items.length, 4, 'two backends on each of two machines');
  t.deepEqual(new Set(top1Items.map((i) => machineOfName(i.split(':')[0]!))), new Set(MACHINES));
  const parity = textOf(/<dt>parity<\/dt><dd>([\s\S]*?)<\/dd>/.exec(card)![1]!);
  for (const machine of MACHINES)
    t.regex(parity, new RegExp(`passed tflite-native-xnnpack vs tfjs-tflite @ ${machine}:`));
  const header = textOf(/<header>([\s\S]*?)<\/header>/.exec(twoPage)![1]!);
  t.regex(header, new RegExp(`run 1 \\(bench, ${HERE} / ${THERE},`));
  t.regex(header, new RegExp(`run 3 \\(accuracy, ${THERE},`));
});

test('every chart keys its series by machine, in its spec and its drawn legend, and no series pools two machines', (t) => {
  const figs = figures(twoPage);
  // A live chart is of one result; its series are that result's runs.
  const keyed = figs.filter((f) => !f.id.startsWith('live-') && seriesChannels(f.spec).length > 0);
  t.deepEqual(
    keyed.map((f) => f.id),
    ['cdf-a0-int8', 'frames-a0-int8', 'accuracy-vs-latency', 'profile-a0-int8', 'top1-seen-a0-int8'],
  );
  for (const f of keyed) {
    const names = [...new Set(seriesChannels(f.spec).flatMap((c) => c.domain))];
    t.true(
      names.every((n) => machineOfName(n) !== undefined),
      `${f.id}: ${names.join(', ')}`,
    );
    t.deepEqual(new Set(names.map(machineOfName)), new Set(MACHINES), f.id);
    for (const n of names) t.true(f.svgText.includes(n), `${f.id}: the legend draws "${n}" whole`);
    if (f.id !== 'accuracy-vs-latency') t.true(f.svgText.includes('backend @ machine'), f.id);
  }
  // Each result is its own series, with its own frames: a pooled series would hold two results' points.
  const cdf = figs.find((f) => f.id === 'cdf-a0-int8')!.spec;
  const cdfRows = rows<{ series: string; p: number }>(cdf, 'cdf');
  t.is(new Set(cdfRows.map((r) => r.series)).size, merged.results.length);
  for (const r of merged.results) {
    const mine = cdfRows.filter((x) => x.series === `${r.backend} @ ${r.machine.label}`);
    t.is(mine.length, cdfPoints(r.samplesMs).length, `${r.backend} @ ${r.machine.label}`);
    t.true(
      mine.every((x, i) => i === 0 || x.p > mine[i - 1]!.p),
      'one step per frame, none repeated',
    );
  }
  const frames = rows<{ series: string; frame: number }>(figs.find((f) => f.id === 'frames-a0-int8')!.spec, 'bins');
  const frameSeries = new Set(frames.map((x) => x.series));
  t.is(frameSeries.size, merged.results.length);
  for (const series of frameSeries) {
    const at = frames.filter((x) => x.series === series).map((x) => x.frame);
    t.is(new Set(at).size, at.length, `${series}: every frame position once`);
    // So few frames are drawn one point each: a series holds exactly one result's frames.
    t.is(at.length, here.results[0]!.samplesMs.length, series);
  }
  // Live charts are one result each: their captions name it with its machine.
  const live = figs.filter((f) => f.id.startsWith('live-'));
  t.true(live.length >= 2);
  t.deepEqual(
    new Set(live.map((f) => machineOfName(/tfjs-tflite @ \S+/.exec(f.caption)?.[0] ?? ''))),
    new Set(MACHINES),
  );
});

test('every section names both machines, and each row that names a result names one of them', (t) => {
  const sections = [...twoPage.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]!);
  t.deepEqual(sections, [
    'summary',
    'baseline',
    'latency-charts',
    'pareto',
    'latency-tables',
    'profile',
    'kernels',
    'roofline',
    'accuracy',
    'parity',
    'live',
  ]);
  for (const id of sections) {
    const text = textOf(sectionOf(twoPage, id));
    for (const machine of MACHINES) t.true(text.includes(machine), `${id} names ${machine}`);
  }
  // The tables of results: the backend cell names the machine, every row.
  for (const id of ['kernels', 'roofline']) {
    const html = sectionOf(twoPage, id);
    t.true(html.includes('>backend @ machine</th>'), id);
    const cells = [...html.matchAll(/<tr><td class="text">[^<]*<\/td><td class="text">([^<]*)<\/td>/g)].map((m) =>
      decode(m[1]!),
    );
    t.true(cells.length >= 2, id);
    t.deepEqual(new Set(cells.map(machineOfName)), new Set(MACHINES), `${id}: ${cells.join(', ')}`);
  }
  const tables = textOf(sectionOf(twoPage, 'latency-tables'));
  for (const machine of MACHINES) {
    t.regex(tables, new RegExp(`a0-int8 tfjs-tflite @ ${machine}: only 20 samples`), 'warnings name the machine');
    t.regex(tables, new RegExp(`tflite-native-xnnpack @ ${machine}: tfjs-tflite-node`), 'runtimes name the machine');
  }
  const profile = textOf(sectionOf(twoPage, 'profile'));
  for (const machine of MACHINES) t.regex(profile, new RegExp(`tflite-native-xnnpack @ ${machine}: no profile`));
  const roofline = textOf(sectionOf(twoPage, 'roofline'));
  for (const machine of MACHINES)
    t.regex(roofline, new RegExp(`tfjs-tflite @ ${machine}, 1 thread\\(s\\):`), 'a probe per machine');
  for (const id of ['accuracy', 'parity', 'live']) {
    const headings = [...sectionOf(twoPage, id).matchAll(/<h3>([\s\S]*?)<\/h3>/g)].map((m) => textOf(m[1]!));
    t.deepEqual(
      headings.map((h) => /^run \d+ on (\S+):/.exec(h)?.[1]),
      [...MACHINES],
      `${id}: ${headings.join(' | ')}`,
    );
  }
  const live = [...sectionOf(twoPage, 'live').matchAll(/<h4>([\s\S]*?)<\/h4>/g)].map((m) => textOf(m[1]!));
  t.deepEqual(live.map(machineOfName), [...MACHINES]);
});

test('a page of one machine names no machine: plain backends, plain legend titles, no "on" in headings', (t) => {
  const text = textOf(onePage);
  // The live table's " @ " is when top-1 settled, not a machine: a result name would end in the label.
  t.false(text.includes(` @ ${HERE}`));
  t.notRegex(onePage, /backend @ machine/);
  // Each report's tables sit under its command line, which names no machine here.
  t.false(onePage.includes(`) on ${HERE}</p>`));
  t.notRegex(onePage, /<h3>run \d+ on /);
  for (const f of figures(onePage).filter((x) => !x.id.startsWith('live-')))
    for (const c of seriesChannels(f.spec)) {
      t.true(
        c.domain.every((n) => !n.includes('@')),
        `${f.id}: ${c.domain.join(', ')}`,
      );
      if (c.title !== 'measured here') t.is(c.title, 'backend', f.id);
    }
  const fastest = textOf(/<dt>fastest<\/dt><dd>([\s\S]*?)<\/dd>/.exec(sectionOf(onePage, 'summary'))![1]!);
  t.regex(fastest, /^ ?(tfjs-tflite|tflite-native-xnnpack) : p50/);
});

test('the terminal tables: every line naming a result of two machines names its machine, one machine none', (t) => {
  const two = benchTable(merged).split('\n');
  const named = two.filter((l) => /^(warning|profile|kernels|roofline) /.test(l));
  t.true(named.some((l) => l.startsWith('profile ')));
  for (const l of named)
    t.truthy(
      MACHINES.find((m) => l.includes(` @ ${m}`)),
      l,
    );
  t.false(benchTable(here).includes(' @ '));
  // A comparison of two machines' rows shows the machine column, which one machine's leaves to the exports.
  const compared = comparisonTable(compareReports(merged, merged)).split('\n');
  t.regex(compared[0]!, /^machine\s+model\s+backend/);
  t.regex(
    compared.find((l) => l.startsWith('smallest slow-down'))!,
    new RegExp(`tfjs-tflite @ ${THERE} p50`),
  );
  t.regex(comparisonTable(compareReports(here, here)).split('\n')[0]!, /^model\s+backend/);
});
