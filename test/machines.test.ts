import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/browser/chromium.js';
import { defaultMachineLabel } from '../src/core/results.js';
import { readReport, type BenchReport } from '../src/report/schema.js';
import { BENCH_A0_BACKEND, benchA0, cli, isOneLineError, tempDir } from './helpers.js';

const tmp = tempDir('movinet-machines-');
const file = (name: string) => path.join(tmp, name);

/** A real bench of A0, labelled as one machine (this one standing for several); no test reads its overhead. */
const bench = (out: string, machine: string | null, env: Record<string, string> = {}): BenchReport =>
  benchA0(out, ['--no-overhead', ...(machine ? ['--machine', machine] : [])], env);

// Made once: two "laptop" processes, one "pi" process, one with the default label.
const made = (() => {
  const laptop1 = bench(file('laptop-1.json'), 'laptop');
  const laptop2 = bench(file('laptop-2.json'), null, { MOVINET_MACHINE: 'laptop' });
  const pi = bench(file('pi.json'), 'raspberry-pi-5');
  const plain = bench(file('plain.json'), null);
  return { laptop1, laptop2, pi, plain };
})();

test('every result names its machine: --machine, MOVINET_MACHINE, else CPU model and cores (not the host)', (t) => {
  t.is(made.laptop1.results[0]!.machine.label, 'laptop');
  t.is(made.laptop2.results[0]!.machine.label, 'laptop');
  t.is(made.pi.results[0]!.machine.label, 'raspberry-pi-5');
  const m = made.plain.results[0]!.machine;
  t.is(m.label, defaultMachineLabel(made.plain.environment.cpuModel, made.plain.environment.cpuCores));
  t.false(m.label.includes(os.hostname()));
  t.is(m.node, process.version);
  const blank = cli(['bench', '--machine', ' ']);
  t.is(blank.code, 2);
  t.true(isOneLineError(blank.stderr), blank.stderr);
  t.regex(blank.stderr, /--machine needs a non-empty label/);
});

test('merge keeps machines apart: a row per (machine, model, backend), processes pooled only within a machine', (t) => {
  const out = file('merged.json');
  const r = cli(['reports', 'merge', file('laptop-1.json'), file('laptop-2.json'), file('pi.json'), '--out', out]);
  t.is(r.code, 0, r.stderr);
  const merged = readReport(out) as BenchReport;
  t.deepEqual(
    merged.results.map((x) => [x.machine.label, x.backend, x.processes.length]),
    [
      ['laptop', BENCH_A0_BACKEND, 2],
      ['raspberry-pi-5', BENCH_A0_BACKEND, 1],
    ],
  );
  t.is(merged.config.processes, 2, 'the most any row has, not the fewest');
  // The text says what is in it: the machines, and process counts per row.
  t.regex(r.stdout, new RegExp(`^laptop\\s+a0-int8\\s+${BENCH_A0_BACKEND}`, 'm'));
  t.regex(r.stdout, new RegExp(`^raspberry-pi-5\\s+a0-int8\\s+${BENCH_A0_BACKEND}`, 'm'));
  t.regex(r.stdout, /machines: laptop \(1 rows\); raspberry-pi-5 \(1 rows\)/);
  t.regex(r.stdout, /1 to 2 processes per row/);
  const csv = cli(['report', out, '--format', 'csv']);
  t.regex(csv.stdout.split('\n')[0]!, /^machine,model,backend/);
  // A process given twice is still refused, whatever its machine.
  const twice = cli(['reports', 'merge', file('laptop-1.json'), file('laptop-1.json'), '--out', file('twice.json')]);
  t.is(twice.code, 2);
  t.true(isOneLineError(twice.stderr), twice.stderr);
});

test('compare matches rows by machine: other machines are listed as not compared unless --across-machines', (t) => {
  const plain = cli(['compare', file('laptop-1.json'), file('pi.json'), '--format', 'md']);
  t.is(plain.code, 0, plain.stderr);
  t.regex(plain.stdout, /not compared/);
  t.regex(plain.stdout, /measured on raspberry-pi-5 in the new report/);
  const across = cli(['compare', file('laptop-1.json'), file('pi.json'), '--across-machines', '--json']);
  t.is(across.code, 0, across.stderr);
  const rows = (JSON.parse(across.stdout) as { rows: { verdict: string; machine?: string; note?: string }[] }).rows;
  t.true(rows.length > 0);
  for (const row of rows) {
    t.not(row.verdict, 'not compared');
    t.is(row.machine, 'laptop → raspberry-pi-5');
    t.regex(row.note ?? '', /across machines: laptop → raspberry-pi-5/);
  }
  // The same machine on both sides is compared as before.
  const same = cli(['compare', file('laptop-1.json'), file('laptop-2.json'), '--json']);
  t.is(same.code, 0, same.stderr);
  const sameRows = (JSON.parse(same.stdout) as { rows: { verdict: string; machine?: string }[] }).rows;
  t.true(sameRows.length > 0);
  for (const row of sameRows) {
    t.not(row.verdict, 'not compared');
    t.is(row.machine, 'laptop');
  }
});

test('a version 2 report is labelled from its environment on read', (t) => {
  const raw = JSON.parse(fs.readFileSync(file('plain.json'), 'utf8')) as Record<string, unknown> & {
    results: Record<string, unknown>[];
    environment: { cpuModel: string; cpuCores: number };
  };
  raw.schemaVersion = 2;
  for (const r of raw.results) delete r.machine;
  fs.writeFileSync(file('v2.json'), JSON.stringify(raw));
  const read = readReport(file('v2.json')) as BenchReport;
  t.is(read.results[0]!.machine.label, defaultMachineLabel(raw.environment.cpuModel, raw.environment.cpuCores));
});

test('the page in Chromium: a table per machine, and the machines beside the quoted phones', async (t) => {
  const html = file('two-machines.html');
  t.is(cli(['report', file('merged.json'), '--out', html]).code, 0);
  t.true(fs.existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} not found`);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${html}`);
    const headings = await page.$$eval('#latency-tables h4', (hs) => hs.map((h) => h.textContent));
    t.deepEqual(headings, ['laptop', 'raspberry-pi-5']);
    const machines = await page.$$eval('#latency-tables table', (ts) =>
      [...ts[0]!.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    t.deepEqual(
      machines.map((row) => [row[0], row[5]]),
      [
        ['laptop', 'measured here'],
        ['raspberry-pi-5', 'measured here'],
        ['Pixel 4', 'quoted from the source page, not measured'],
        ['Pixel 3', 'quoted from the source page, not measured'],
      ],
    );
    t.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('the machine label travels as data: to each process of --processes, and through the library', async (t) => {
  const many = benchA0(file('box.json'), ['--no-overhead', '--machine', 'box', '--processes', '2']);
  t.is(many.results.length, 1);
  t.is(many.results[0]!.processes.length, 2);
  t.is(many.results[0]!.machine.label, 'box', 'each child was told the label');
  const { bench: libraryBench } = await import('../src/api/index.js');
  const lib = await libraryBench({
    models: ['a0'],
    backends: [BENCH_A0_BACKEND],
    frames: 10,
    warmup: 2,
    roofline: false,
    overhead: false,
    machine: 'lib-box',
  });
  t.is(lib.results[0]!.machine.label, 'lib-box');
});
