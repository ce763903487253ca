import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { readReport } from '../report/schema.js';
import { signalExitCode } from '../util/child.js';
import { UserError } from '../util/errors.js';
import { telemetryOffEnv } from '../util/ort-telemetry.js';
import { allowedCpus, GATE, parseCpuList } from '../util/start-gate.js';

/*
 * One duet pair of `ab --mode duet`: the baseline's and the candidate's `bench` run at the same time, each
 * pinned with taskset to its own CPUs. Both load and warm up, both say they are ready, their affinity is
 * read back from /proc for every thread, and only then are both told to go; when both have measured they
 * are told to stop. Either side failing ends the other: no child outlives the pair.
 */

export type Side = 'baseline' | 'candidate';

export interface DuetSide {
  side: Side;
  /** node, the side's CLI and its bench arguments (with --start-signal and --out). */
  args: string[];
  cpus: number[];
  /** Its report: read for the reason when it ends without measuring (a skipped or failed pair). */
  out: string;
}

type Child = ChildProcessByStdio<Writable, null, Readable>;

interface Running {
  spec: DuetSide;
  child: Child;
  /** The handshake lines the child has said so far. */
  said: Set<string>;
  /** Its last other line on stderr: the error, when it fails. */
  tail: string;
  exited: boolean;
  /** Called whenever the child says something or exits. */
  onChange: (() => void) | null;
  exit: Promise<Exit>;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A duet this machine cannot run: why, and what would let it (an interleaved run always can). */
function refusal(why: string, remedy?: string): UserError {
  const fallback = 'use --mode interleaved';
  const instead = remedy ? `${remedy} or ${fallback}` : fallback;
  return new UserError(`--mode duet ${why}: ${instead}`);
}

/** The CPU sets of the two sides, or a one-line refusal: each side needs `threads` CPUs of its own. */
export function duetCpus(threads: number): { baseline: number[]; candidate: number[] } {
  const cpus = allowedCpus();
  if (!cpus) throw refusal('pins each side to its own CPUs with Linux affinity, which this system lacks');
  if (spawnSync('taskset', ['--version']).error)
    throw refusal('pins each side with taskset (util-linux), which is not installed', 'install it');
  if (cpus.length < 2 * threads) {
    const needs = `with --threads ${threads} needs ${2 * threads} CPUs, ${threads} per side`;
    const has = `this process may use ${cpus.length} (${cpus.join(',')})`;
    throw refusal(`${needs}; ${has}`, 'lower --threads');
  }
  const spread = byCore(cpus);
  return { baseline: spread.slice(0, threads), candidate: spread.slice(threads, 2 * threads) };
}

/**
 * The CPUs ordered so that each physical core's first hardware thread comes before any second one:
 * two sides on SMT siblings would share one core's units, and a regression would leak into the partner.
 */
function byCore(cpus: readonly number[]): number[] {
  const rank = (cpu: number) => {
    try {
      const siblings = parseCpuList(
        fs.readFileSync(`/sys/devices/system/cpu/cpu${cpu}/topology/thread_siblings_list`, 'utf8').trim(),
      );
      return Math.max(0, siblings.indexOf(cpu));
    } catch {
      return 0;
    }
  };
  return [...cpus].sort((a, b) => rank(a) - rank(b) || a - b);
}

/** Every thread of `pid` allowed exactly `cpus`, or what differs. */
function affinityMismatch(pid: number, cpus: readonly number[]): string | null {
  const want = cpus.join(',');
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return `cannot read /proc/${pid}/task`;
  }
  for (const task of tasks) {
    const got = allowedCpus(`/proc/${pid}/task/${task}/status`);
    // A thread that ended between the listing and the read has nothing left to run.
    if (got === null) continue;
    if (got.join(',') !== want) return `thread ${task} may run on ${got.join(',')}, not ${want}`;
  }
  return null;
}

function start(spec: DuetSide): Running {
  // Each side's bench gets the telemetry switch from here: the baseline may be a build that does not set it.
  const child = spawn('taskset', ['-c', spec.cpus.join(','), ...spec.args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: telemetryOffEnv(),
  });
  const running: Running = {
    spec,
    child,
    said: new Set(),
    tail: '',
    exited: false,
    onChange: null,
    exit: new Promise((resolve) => {
      const ended = (code: number | null, signal: NodeJS.Signals | null) => {
        running.exited = true;
        resolve({ code, signal });
        running.onChange?.();
      };
      child.on('error', (e) => {
        running.tail = e.message;
        ended(2, null);
      });
      child.on('close', ended);
    }),
  };
  // A child that has exited no longer reads its orders; writing them must not end this process.
  child.stdin.on('error', () => undefined);
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === GATE.ready || line === GATE.measured) running.said.add(line);
      else if (line.trim()) running.tail = line.trim();
    }
    running.onChange?.();
  });
  return running;
}

/** Resolves with null once every child has said `line`, or with the first child that exits before saying it. */
function allSaid(children: readonly Running[], line: string): Promise<Running | null> {
  return new Promise((resolve) => {
    const check = () => {
      const gone = children.find((c) => c.exited && !c.said.has(line));
      if (!gone && !children.every((c) => c.said.has(line))) return;
      for (const c of children) c.onChange = null;
      resolve(gone ?? null);
    };
    for (const c of children) c.onChange = check;
    check();
  });
}

/** Why a side's bench ended without measuring, from its report: the pair it skipped or failed. */
function notMeasured(out: string): string | null {
  try {
    const r = readReport(out);
    const entry = [...r.skipped.map((s) => s.reason), ...r.failed.map((f) => f.error)][0];
    return entry ?? null;
  } catch {
    return null;
  }
}

/** The one-line error for a side that ended badly; `stoppedBy` is the signal this process forwarded, if any. */
function failure(c: Running, exit: Exit, stoppedBy: NodeJS.Signals | null): UserError {
  if (stoppedBy) return new UserError(`ab stopped by ${stoppedBy}`, signalExitCode(stoppedBy));
  const why = c.tail.replace(/^movinet-bench: (error: )?/, '');
  if (exit.code === 0) {
    const reason = notMeasured(c.spec.out) ?? why;
    return new UserError(`${c.spec.side} build did not run the pair (${reason}); a duet needs both sides to run it`, 1);
  }
  const how = exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`;
  return new UserError(`${c.spec.side} process failed (${how}): ${why}`, 1);
}

/** Runs the two sides of one pair to their end; throws a UserError once both have ended if either failed. */
export async function runDuetPair(sides: readonly [DuetSide, DuetSide]): Promise<void> {
  // Listening before the spawns, as runChild does: a signal in between must not end this process alone.
  let children: Running[] = [];
  let stoppedBy: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    children.forEach((c) => c.child.kill(signal));
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  children = sides.map(start);
  const endAll = async (error: UserError | ((exits: Awaited<Running['exit']>[]) => UserError)) => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM');
    const exits = await Promise.all(children.map((c) => c.exit));
    return typeof error === 'function' ? error(exits) : error;
  };
  const exitedEarly = (c: Running) => endAll((exits) => failure(c, exits[children.indexOf(c)]!, stoppedBy));
  try {
    const early = await allSaid(children, GATE.ready);
    if (early) throw await exitedEarly(early);
    for (const c of children) {
      const wrong = c.child.pid === undefined ? 'no process id' : affinityMismatch(c.child.pid, c.spec.cpus);
      if (wrong) throw await endAll(new UserError(`${c.spec.side} process was not pinned as asked: ${wrong}`, 1));
    }
    for (const c of children) c.child.stdin.write(`${GATE.go}\n`);
    const late = await allSaid(children, GATE.measured);
    if (late) throw await exitedEarly(late);
    for (const c of children) c.child.stdin.end(`${GATE.stop}\n`);
    const exits = await Promise.all(children.map((c) => c.exit));
    exits.forEach((e, i) => {
      if (e.signal || e.code !== 0) throw failure(children[i]!, e, stoppedBy);
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}
