import { defaultMachineLabel, type BenchResult, type Environment, type Machine } from '../core/results.js';

/** The label a row's machine goes by: rows are grouped, matched, merged and named by it. */
export const machineLabel = (r: BenchResult): string => r.machine.label;

/** Whether two rows were measured on one machine. */
export const sameMachine = (a: BenchResult, b: BenchResult): boolean => machineLabel(a) === machineLabel(b);

/** The machine a compared pair of rows was measured on, or "old → new" when the two differ. */
export const pairMachine = (o: BenchResult, n: BenchResult): string =>
  sameMachine(o, n) ? machineLabel(o) : `${machineLabel(o)} → ${machineLabel(n)}`;

/** How a row's machine was emulated, when it was: then the row's timings say nothing of any CPU. */
export const emulation = (r: BenchResult): string | undefined => r.machine.emulated;

/** Whether a row was measured on an emulated machine. */
export const isEmulated = (r: BenchResult): boolean => Boolean(emulation(r));

/** The machines of these results, in first-seen order. */
export function machinesOf(results: readonly BenchResult[]): Machine[] {
  const seen = new Map<string, Machine>();
  for (const r of results) if (!seen.has(machineLabel(r))) seen.set(machineLabel(r), r.machine);
  return [...seen.values()];
}

/** Rows grouped by machine (first-seen order), each group in its own order. */
export function byMachine(results: readonly BenchResult[]): BenchResult[] {
  const order = machinesOf(results).map((m) => m.label);
  return [...results].sort((a, b) => order.indexOf(machineLabel(a)) - order.indexOf(machineLabel(b)));
}

/** How many processes stand behind the rows: one count when every row has it, else the range. */
export function processesText(results: readonly BenchResult[]): string {
  const counts = [...new Set(results.map((r) => r.processes.length))].sort((a, b) => a - b);
  if (counts.length <= 1) {
    const n = counts[0] ?? 1;
    return n > 1 ? `${n} processes per pair (p50 CI over processes)` : '1 process per pair (p50 CI over frames)';
  }
  const span = `${counts[0]} to ${counts.at(-1)} processes per row`;
  return `${span} (procs column; p50 CI over processes where there are several)`;
}

/** One line naming the machines when there are several, for the text above or under a table. */
export function machinesLine(results: readonly BenchResult[]): string[] {
  const machines = machinesOf(results);
  if (machines.length < 2) return [];
  const rows = (label: string) => results.filter((r) => machineLabel(r) === label).length;
  const each = machines.map((m) => `${m.label} (${rows(m.label)} rows)`).join('; ');
  return [`machines: ${each}; rows are per machine, never pooled across machines`];
}

/** Rows whose latency can be read as it stands: not from an emulated machine. Charts of time plot these only. */
export function timedResults(results: readonly BenchResult[]): BenchResult[] {
  return results.filter((r) => !isEmulated(r));
}

/**
 * Why some rows' timings must not be read as they stand: an emulated machine (its latency cells read n/m)
 * and duet rows (each process had the other build's running beside it: the A/B ratio is the figure).
 */
export function measurementCaveats(results: readonly BenchResult[]): string[] {
  const emulated = machinesOf(results).filter((m) => m.emulated);
  const duet = [...new Set(results.flatMap((r) => (r.duet ? [r.duet.partner] : [])))];
  return [...emulated.map(emulatedCaveat), ...duet.map(duetCaveat)];
}

function emulatedCaveat(m: Machine): string {
  const what = `n/m: ${m.label} is emulated (${m.emulated})`;
  return `${what}; its latency and memory are not meaningful and are neither shown nor compared; its logits are`;
}

function duetCaveat(partner: string): string {
  const when = `duet: every process ran at the same time as one of ${partner}'s on another CPU`;
  return `${when}; its absolute figures include that neighbour, only the A/B ratios are meant to be read`;
}

/**
 * What may be read of a whole run made on an emulated machine (accuracy, parity): the table's line and
 * the page's note.
 */
export function emulatedRunLines(environment: Environment): string[] {
  const e = environment.emulated;
  return e ? [`n/m: this run was emulated (${e}); its timings are not meaningful, its results are`] : [];
}

/** What tells one result from another wherever it is named: on the page, under the tables, in exports. */
export interface ResultKey {
  /** The backend, or a parity pair's "backend vs reference". */
  backend: string;
  /** Its machine's label; named only where the results shown come from several machines. */
  machine: string;
  /** The reports it comes from ("run 2", "accuracy run 3"), given only when they tell it apart from another result. */
  runs?: readonly string[];
}

/**
 * The one name a result goes by: its backend, then the runs that tell it apart, then `@ machine` when the
 * results shown come from several machines (`machines` is how many). Chart series are keyed by this name,
 * so two machines' results are never one series, and a page of one machine names none.
 */
export function resultName(key: ResultKey, machines: number): string {
  const runs = (key.runs ?? []).map((run) => ` (${run})`).join('');
  const machine = machines > 1 ? ` @ ${key.machine}` : '';
  return `${key.backend}${runs}${machine}`;
}

/** A bench row named under its table: model, then its result name among the table's machines. */
export function rowName(r: BenchResult, machines: number): string {
  return `${r.model.id} ${resultName({ backend: r.backend, machine: machineLabel(r) }, machines)}`;
}

/**
 * The machine a report that does not label its results (accuracy, parity, live) ran on. Its environment
 * records the CPU, OS and Node, not the label: the bench machine with the same ones when exactly one has
 * them (so a `--machine` label carries over to the other reports of that machine), else the default label.
 */
export function environmentMachine(env: Environment, known: readonly Machine[]): string {
  const same = known.filter(
    (m) => m.cpuModel === env.cpuModel && m.cpuCores === env.cpuCores && m.os === env.os && m.node === env.node,
  );
  const labels = new Set(same.map((m) => m.label));
  const [only] = labels;
  return labels.size === 1 && only !== undefined ? only : defaultMachineLabel(env.cpuModel, env.cpuCores);
}
