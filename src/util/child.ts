import { spawn } from 'node:child_process';

export interface ChildResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last lines the child wrote on stderr (when stderr is captured). */
  stderr: string;
}

/**
 * Runs a child process to its end. SIGINT and SIGTERM sent to this process
 * are forwarded to the child and the call still waits for it, so a stopped
 * run never leaves a child behind that would go on and write files.
 */
export function runChild(
  command: string,
  args: readonly string[],
  opts: { stdout: 'ignore' | 'inherit' | 'pipe'; stderr: 'inherit' | 'pipe'; env?: NodeJS.ProcessEnv },
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', opts.stdout, opts.stderr], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
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
