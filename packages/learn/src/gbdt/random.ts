import { seededRandom as mulberry32 } from '@trestle/core';

/** A seeded pseudo-random source, so training with the same seed gives the same model. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/**
 * The core's seeded source (mulberry32) as a {@link Random}.
 *
 * @example
 * const random = seededRandom(42);
 * random.next(); // 0.6011…
 */
export function seededRandom(seed: number): Random {
  return { next: mulberry32(seed) };
}
