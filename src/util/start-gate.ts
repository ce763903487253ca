import fs from 'node:fs';

/*
 * The handshake of `ab --mode duet`: two `bench` processes, one per build, measure at the same moment
 * so that both meet the same interference. Each child, once loaded and warmed up, says READY on stderr
 * and waits for GO on stdin; after its measured frames it says MEASURED and keeps its core busy with
 * unmeasured frames until STOP (or until stdin closes), so that neither side runs alone at the end.
 */
export const GATE = {
  ready: 'movinet-bench gate: ready',
  go: 'go',
  measured: 'movinet-bench gate: measured',
  stop: 'stop',
};

/** What a measuring loop needs from the handshake; absent, it measures at once. */
export interface StartGate {
  /** Resolves when measuring may start. */
  ready(): Promise<void>;
  /** Announces the end of measuring; resolves when the partner is done too. */
  measured(): Promise<void>;
}

/** The handshake over this process's stderr (announcements) and stdin (orders), one line each. */
export function stdioStartGate(): StartGate {
  const waiting = new Map<string, () => void>();
  let buffered = '';
  let closed = false;
  const settleAll = () => {
    closed = true;
    for (const resolve of waiting.values()) resolve();
    waiting.clear();
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      waiting.get(line)?.();
      waiting.delete(line);
    }
  });
  // The parent gone or done: nobody will order anything, so nothing waits any longer.
  process.stdin.on('end', settleAll);
  process.stdin.on('error', settleAll);
  const order = (line: string) =>
    new Promise<void>((resolve) => {
      if (closed) resolve();
      else waiting.set(line, resolve);
    });
  const announce = (line: string) => fs.writeSync(2, `${line}\n`);
  return {
    async ready() {
      const go = order(GATE.go);
      announce(GATE.ready);
      await go;
    },
    async measured() {
      const stop = order(GATE.stop);
      announce(GATE.measured);
      await stop;
      process.stdin.pause();
      process.stdin.unref?.();
    },
  };
}

/**
 * The CPUs this process (or one of its threads, by /proc path) may run on, from Linux's Cpus_allowed_list; null
 * elsewhere.
 */
export function allowedCpus(statusFile = '/proc/self/status'): number[] | null {
  let text: string;
  try {
    text = fs.readFileSync(statusFile, 'utf8');
  } catch {
    return null;
  }
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(text)?.[1];
  return list === undefined ? null : parseCpuList(list);
}

/** "0-2,5" -> [0, 1, 2, 5]. */
export function parseCpuList(list: string): number[] {
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) return [];
    const end = b === undefined ? a : b;
    return Array.from({ length: end - a + 1 }, (_, i) => a + i);
  });
}
