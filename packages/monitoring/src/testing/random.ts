/** Seeded pseudo-random samples for tests and benchmarks (mulberry32 + Box–Muller). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` normal values with mean `mu` and standard deviation `sigma`. */
export function normals(random: () => number, n: number, mu = 0, sigma = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mu + sigma * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mu + sigma * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
