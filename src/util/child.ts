import { spawn } from 'node:child_process';
import { telemetryOffEnv } from './ort-telemetry.js';

export interface ChildResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last lines the child wrote on stderr (when stderr is captured). */
  stderr: string;
}

/**
 * Runs a child process to its end, with onnxruntime's telemetry switched off
 * in its environment. SIGINT and SIGTERM sent to this process are forwarded
 * to the child and the call still waits for it, so a stopped run never leaves
 * a child behind that would go on and write files.
 */
export function runChild(
  command: string,
  args: readonly string[],
  opts: { stdout: 'ignore' | 'inherit' | 'pipe'; stderr: 'inherit' | 'pipe'; env?: NodeJS.ProcessEnv },
): Promise<ChildResult> {
  return new Promise((resolve) => {
    // Listening before the spawn: with no listener, a signal that lands once the child exists but
    // before spawn() has returned would take Node's default action and end this process on the spot.
    // Listeners run from the event loop, after this block, so the child is known by then.
    let target: { kill(signal: NodeJS.Signals): boolean } | null = null;
    const forward = (signal: NodeJS.Signals) => target?.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    // The switch is passed explicitly: the child may be another build (ab's baseline) that never sets it itself.
    const child = spawn(command, args, { stdio: ['ignore', opts.stdout, opts.stderr], env: telemetryOffEnv(opts.env) });
    target = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let settled = false;
    const done = (code: number, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve({ code, signal, stdout, stderr });
    };
    child.on('error', (e) => {
      stderr += e.message;
      done(2, null);
    });
    child.on('close', (code, signal) => done(code ?? 2, signal));
  });
}

/** The exit code a shell gives a process ended by `signal`. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
}
