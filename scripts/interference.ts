/**
 * A known interference for the `ab` power measurement (scripts/ab-power.sh starts and stops it):
 *   cpu           one thread spinning without pause
 *   intermittent  spinning for `period` seconds, then idle for as long, over and over
 *   memory        copying a buffer far larger than any cache, back and forth (memory bandwidth)
 * Usage: node dist/scripts/interference.js <cpu|intermittent|memory> [--period 3]
 * It runs until it is killed (no handler: SIGTERM's default action ends it at once).
 */
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { period: { type: 'string', default: '3' } },
});
const kind = positionals[0];
const periodMs = Number(values.period) * 1000;

function spin(ms: number): void {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  if (x < 0) console.log(x);
}

async function main(): Promise<void> {
  switch (kind) {
    case 'cpu':
      for (;;) spin(1000);
    case 'intermittent':
      for (;;) {
        spin(periodMs);
        await new Promise((r) => setTimeout(r, periodMs));
      }
    case 'memory': {
      const a = Buffer.alloc(256 * 2 ** 20, 1);
      const b = Buffer.alloc(256 * 2 ** 20);
      for (;;) {
        a.copy(b);
        b.copy(a);
      }
    }
    default:
      console.error('usage: interference.js <cpu|intermittent|memory> [--period seconds]');
      process.exit(2);
  }
}
void main();
