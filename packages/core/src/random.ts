/**
 * A seeded pseudo-random source (mulberry32: 32 bits of state, fast, good enough for sampling
 * rows, splitting data and generating test tables): the same seed gives the same sequence on
 * every machine.
 *
 * @example
 * const random = seededRandom(42);
 * random(); // 0.6011…, a float in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
