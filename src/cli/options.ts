import { InvalidArgumentError } from 'commander';

export function parseList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

export function intParser(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got '${value}'`);
    }
    return n;
  };
}

export function parsePercentiles(value: string): number[] {
  return parseList(value).map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || n <= 0 || n >= 100) throw new InvalidArgumentError(`percentiles must be numbers between 0 and 100, got '${p}'`);
    return n;
  });
}

export function parseResize(value: string): 'crop' | 'squash' {
  if (value !== 'crop' && value !== 'squash') throw new InvalidArgumentError(`--resize must be crop or squash, got '${value}'`);
  return value;
}

/** "i/n" with 0 <= i < n. */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new InvalidArgumentError(`--shard must be i/n with 0 <= i < n, got '${value}'`);
  return { index, count };
}
