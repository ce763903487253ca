/** Deterministic pseudo-random frames in [0,1] (mulberry32), for runs that need no video. */
export function syntheticFrames(count: number, size: number, seed = 1): Float32Array[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const f = new Float32Array(size * size * 3);
    for (let i = 0; i < f.length; i++) f[i] = next();
    return f;
  });
}
