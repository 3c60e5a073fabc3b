/** A seeded pseudo-random source, so training with the same seed gives the same model. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/**
 * Mulberry32: 32 bits of state, fast, and good enough for sampling rows and features.
 *
 * @example
 * const random = seededRandom(42);
 * random.next(); // 0.6011…
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
