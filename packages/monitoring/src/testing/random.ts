import { seededRandom } from '@trestle/core';

/** Seeded pseudo-random samples for tests and benchmarks (mulberry32 from core + Box–Muller). */
export const rng = seededRandom;

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
