import type { NodeTime } from '../metrics/profile.js';
import type { OpProfiler, ProfileWindow } from './backend.js';

/**
 * Why the summary and not getProfilingResults(): the results give each node's time in whole milliseconds,
 * rounded down, which erases most nodes of a small model. The summary keeps microseconds but is cumulative:
 * each call adds every event in the profile buffer once more and counts as one more run, printing each node's
 * mean time per event and its events per run. Read once after the warm-up and once after the window, the two
 * give the window's own time per node (the warm-up's events were added twice by then).
 */
export interface SummaryReader {
  getProfilingSummary(): string;
}

/** Buffer entries a profiled step may take per graph operator: the plan's node plus a delegate's inner ops. */
const EVENTS_PER_OP = 4;

/** Profile buffer entries for every step of the window, so TFLite drops none. */
export function profileBufferEntries(operators: number, window: ProfileWindow): number {
  return EVENTS_PER_OP * Math.max(1, operators) * (window.warmup + window.frames);
}

interface SummaryRow {
  node: string;
  op: string;
  avgMs: number;
  timesCalled: number;
}

/** The execution plan's rows ("Run Order", before the delegate's internal section), keyed by node index. */
export function runOrderRows(summary: string): Map<string, SummaryRow> {
  const rows = new Map<string, SummaryRow>();
  const lines = summary.split('\n');
  const start = lines.findIndex((l) => l.includes('Run Order'));
  if (start === -1) return rows;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('=====')) break;
    const cells = line.split('\t').map((c) => c.trim());
    const named = /^\[(.*)\]:(\d+)$/.exec(cells[8] ?? '');
    if (cells.length !== 9 || !named) continue;
    const [, node = '', index = ''] = named;
    rows.set(index, { node, op: cells[1] ?? '?', avgMs: Number(cells[3]), timesCalled: Number(cells[7]) });
  }
  return rows;
}

/** Checks a summary's counts against the events it was made from, which catches a full buffer or a new format. */
function expectCalls(rows: Map<string, SummaryRow>, events: number, runs: number): void {
  const want = Math.floor(events / runs);
  if (rows.size === 0) throw new Error('the TFLite profiling summary lists no nodes');
  for (const r of rows.values()) {
    if (r.timesCalled !== want)
      throw new Error(`TFLite's profiling summary counts ${r.timesCalled} calls of ${r.node} where ${want} ran`);
  }
}

export class SummaryProfiler implements OpProfiler {
  readonly source = 'TFLite op profiler (enableProfiling summary)';
  private steps = 0;
  private warm = new Map<string, SummaryRow>();

  constructor(
    private readonly reader: SummaryReader,
    private readonly window: ProfileWindow,
  ) {}

  /** Called after each step: the warm-up's summary is read when it ends (and checked with the window's). */
  stepped(): void {
    this.steps++;
    if (this.steps === this.window.warmup) this.warm = runOrderRows(this.reader.getProfilingSummary());
  }

  async nodeTimes(): Promise<NodeTime[]> {
    const { warmup, frames } = this.window;
    if (this.steps !== warmup + frames)
      throw new Error(`the profiling session ran ${this.steps} steps, not ${warmup} + ${frames}`);
    if (warmup) expectCalls(this.warm, warmup, 1);
    const events = 2 * warmup + frames;
    const rows = runOrderRows(this.reader.getProfilingSummary());
    expectCalls(rows, events, warmup ? 2 : 1);
    return [...rows].map(([index, r]) => {
      const warmMs = (this.warm.get(index)?.avgMs ?? 0) * warmup;
      return { node: r.node, op: r.op, ms: Math.max(0, r.avgMs * events - 2 * warmMs) };
    });
  }
}
