import type { BenchResult, Environment, Machine } from '../core/results.js';

/** The machines of these results, in first-seen order. */
export function machinesOf(results: readonly BenchResult[]): Machine[] {
  const seen = new Map<string, Machine>();
  for (const r of results) if (!seen.has(r.machine.label)) seen.set(r.machine.label, r.machine);
  return [...seen.values()];
}

/** Rows grouped by machine (first-seen order), each group in its own order. */
export function byMachine(results: readonly BenchResult[]): BenchResult[] {
  const order = machinesOf(results).map((m) => m.label);
  return [...results].sort((a, b) => order.indexOf(a.machine.label) - order.indexOf(b.machine.label));
}

/** How many processes stand behind the rows: one count when every row has it, else the range. */
export function processesText(results: readonly BenchResult[]): string {
  const counts = [...new Set(results.map((r) => r.processes.length))].sort((a, b) => a - b);
  if (counts.length <= 1) {
    const n = counts[0] ?? 1;
    return n > 1 ? `${n} processes per pair (p50 CI over processes)` : '1 process per pair (p50 CI over frames)';
  }
  return `${counts[0]} to ${counts.at(-1)} processes per row (procs column; p50 CI over processes where there are several)`;
}

/** One line naming the machines when there are several, for the text above or under a table. */
export function machinesLine(results: readonly BenchResult[]): string[] {
  const machines = machinesOf(results);
  if (machines.length < 2) return [];
  const rows = (label: string) => results.filter((r) => r.machine.label === label).length;
  return [
    `machines: ${machines.map((m) => `${m.label} (${rows(m.label)} rows)`).join('; ')}; rows are per machine, never pooled across machines`,
  ];
}

/** Rows whose latency can be read as it stands: not from an emulated machine. Charts of time plot these only. */
export function timedResults(results: readonly BenchResult[]): BenchResult[] {
  return results.filter((r) => !r.machine.emulated);
}

/**
 * Why some rows' timings must not be read as they stand: an emulated machine (its latency cells read n/m)
 * and duet rows (each process had the other build's running beside it: the A/B ratio is the figure).
 */
export function measurementCaveats(results: readonly BenchResult[]): string[] {
  const emulated = machinesOf(results).filter((m) => m.emulated);
  const duet = [...new Set(results.flatMap((r) => (r.duet ? [r.duet.partner] : [])))];
  return [
    ...emulated.map(
      (m) =>
        `n/m: ${m.label} is emulated (${m.emulated}); its latency and memory are not meaningful and are neither shown nor compared; its logits are`,
    ),
    ...duet.map(
      (partner) =>
        `duet: every process ran at the same time as one of ${partner}'s on another CPU; its absolute figures include that neighbour, only the A/B ratios are meant to be read`,
    ),
  ];
}

/** What may be read of a whole run made on an emulated machine (accuracy, parity): the table's line and the page's note. */
export function emulatedRunLines(environment: Environment): string[] {
  const e = environment.emulated;
  return e ? [`n/m: this run was emulated (${e}); its timings are not meaningful, its results are`] : [];
}
