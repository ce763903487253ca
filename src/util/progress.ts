import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  update(done: number, label?: string): void;
  stop(): void;
}

const silent: Progress = { start() {}, update() {}, stop() {} };

/** Whether progress may be drawn: a TTY on stderr, not CI, not --json. */
export function progressAllowed(json: boolean): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && !json;
}

/** A progress bar (count, rate, ETA) on stderr when allowed, else nothing at all. */
export function createProgress(json: boolean, unit: string): Progress {
  if (!progressAllowed(json)) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `{label} [{bar}] {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = 0;
  return {
    start(total, label) {
      started = performance.now();
      bar.start(total, 0, { label, rate: '0.0' });
    },
    update(done, label) {
      const rate = (done / Math.max(1e-3, (performance.now() - started) / 1000)).toFixed(1);
      bar.update(done, label === undefined ? { rate } : { label, rate });
    },
    stop() {
      bar.stop();
    },
  };
}

/** One line of status on stderr, suppressed with --json. */
export function logLine(json: boolean, text: string): void {
  if (!json) process.stderr.write(`${text}\n`);
}
