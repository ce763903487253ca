import fs from 'node:fs';
import path from 'node:path';

/*
 * onnxruntime-node's native library carries Microsoft's 1DS telemetry: a remote collector, its own threads, a
 * session file in the temp dir and a database under the user's cache, all inside the process a benchmark measures.
 * The library decides once, when it creates its environment (at the first session), from the process environment;
 * there is no JS API. So the switch is set in this process before any session exists and handed to every child
 * explicitly, including an older build's CLI that `ab` runs as its baseline and that sets nothing itself. A worker
 * thread's process.env is its own copy that the native library never reads: onnxruntime is never loaded in one.
 */

/**
 * The switch, over any value a user gave (a 0 would turn the uploader back on): the name onnxruntime-node 1.30
 * reads, and the name onnxruntime's main branch reads instead, so an upgrade does not silently turn it back on.
 */
export const ORT_TELEMETRY_OFF: Readonly<Record<string, string>> = {
  ORT_DISABLE_TELEMETRY: '1',
  ORT_TELEMETRY_DISABLED: '1',
};

const SWITCH = 'ORT_DISABLE_TELEMETRY=1';

/** The switch as this process's environment holds it. */
const switchNow = () => `ORT_DISABLE_TELEMETRY=${process.env.ORT_DISABLE_TELEMETRY ?? '(unset)'}`;

/** Sets the switch in this process; it takes effect only if no onnxruntime session exists here yet. */
export function disableOrtTelemetry(): void {
  Object.assign(process.env, ORT_TELEMETRY_OFF);
}

/** A child's environment: `env` (by default this process's) with the switch set, whatever `env` says. */
export function telemetryOffEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, ...ORT_TELEMETRY_OFF };
}

/** What the check of one process found, as a report records it. */
export interface TelemetryCheck {
  state: 'off' | 'on' | 'unchecked';
  evidence: string;
}

/** When this process started, for telling its own log from one a dead process of the same pid left behind. */
const STARTED_MS = Date.now() - process.uptime() * 1000;

/**
 * The files the telemetry holds open, on Linux: its debug log (named after the pid) and its database. A started
 * telemetry keeps them open for the life of the process, wherever they are.
 */
function openTelemetryFile(): string | null {
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  const log = `/mat-debug-${process.pid}.log`;
  for (const fd of fds) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target.endsWith(log) || target.includes('/Microsoft/DeveloperTools/.onnxruntime/')) return target;
  }
  return null;
}

/** The debug log where the telemetry creates it (1DS reads TMPDIR alone, not TMP or TEMP), if made by this process. */
function freshDebugLog(): string | null {
  const file = path.join(process.env.TMPDIR || '/tmp', `mat-debug-${process.pid}.log`);
  try {
    // One second of slack for the clocks behind uptime and the file system.
    return fs.statSync(file).mtimeMs >= STARTED_MS - 1000 ? file : null;
  } catch {
    return null;
  }
}

let warned = false;

/**
 * Whether onnxruntime's telemetry runs in this process, read from the files its start leaves: meaningful once a
 * session has been created here (before that it has not decided). Warns once when it runs: a row measured beside it
 * is recorded as such, never as telemetry-free.
 */
export function checkOrtTelemetry(): TelemetryCheck {
  if (process.platform !== 'linux' && process.platform !== 'darwin')
    return { state: 'unchecked', evidence: `${switchNow()}; no check of its files on ${process.platform}` };
  const found = openTelemetryFile() ?? freshDebugLog();
  if (found === null) {
    const noFile = process.platform === 'linux' ? ', no telemetry file open' : '';
    const checked = `checked after session creation: no mat-debug-${process.pid}.log in the temp dir${noFile}`;
    return { state: 'off', evidence: `${switchNow()}; ${checked}` };
  }
  if (!warned) {
    warned = true;
    process.stderr.write(
      `movinet-bench: warning: onnxruntime's telemetry runs in this process (it made ${found}): ` +
        `a session came before the switch, or ${SWITCH} no longer stops it; the report says so\n`,
    );
  }
  return { state: 'on', evidence: `${switchNow()}; telemetry started in this process: it made ${found}` };
}

/**
 * The report environment's line: off once the switch is set here (a library call may come before any backend sets
 * it), as every child gets it too; on, if a session made before the switch already started the telemetry.
 */
export function ortTelemetryEnvironment(): string {
  disableOrtTelemetry();
  const check = checkOrtTelemetry();
  if (check.state === 'on') return `on: ${check.evidence}`;
  // Read back rather than assumed: a build or a host program that does not set it must not read as off.
  if (switchNow() !== SWITCH) return `not switched off: ${switchNow()} in this process`;
  return `off: ${SWITCH} in this process and every child it starts; each onnxruntime-node row records its own check`;
}
