import { afterAll, describe, expect, it } from 'vitest';
import { normals, rng } from '../testing/random.js';
import type { Column } from '../profile/columns.js';
import { driftFromColumns } from './from-raw.js';
import { DriftPool } from './pool.js';

const random = rng(31);
const n = 120_000;
function table(shift: number): Record<string, Column> {
  const withNaN = normals(random, n, shift);
  for (let i = 0; i < n; i += 17) withNaN[i] = NaN;
  return {
    a: normals(random, n, shift),
    b: normals(random, n, 0, 1 + shift),
    c: withNaN,
    d: Float32Array.from(normals(random, n, shift * 2)),
    e: Float64Array.from({ length: n }, () => Math.floor(random() * 4)),
    f: {
      codes: Int32Array.from({ length: n }, () => Math.floor(random() * (6 + shift * 10))),
      dictionary: ['u', 'v', 'w', 'x', 'y', 'z', 'p', 'q'],
    },
    g: Array.from({ length: n }, () => (random() < 0.5 + shift ? 'yes' : 'no')),
  };
}
const reference = table(0);
const current = table(0.2);

describe('DriftPool', () => {
  const pool = new DriftPool({ threads: 2 });
  afterAll(() => pool.close());

  it('starts a helper thread (from TypeScript sources too) and gives the single-threaded answer', async () => {
    expect(await pool.start()).toBe(1);
    for (const options of [{}, { numMethod: 'ks' as const }, { method: 'psi' as const, driftShare: 0.3 }]) {
      const expected = driftFromColumns(reference, current, options);
      const got = await pool.driftFromColumns(reference, current, options);
      expect(got).toEqual(expected);
      expect(got.features.map((f) => f.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    }
  });

  it('says what is wrong as the single-threaded call does, whichever thread finds it', async () => {
    await expect(pool.driftFromColumns(reference, { a: current['a']! })).rejects.toThrow(
      /column 'b' is in the reference but not in the current data/,
    );
    for (const column of ['a', 'b', 'c', 'd']) {
      await expect(
        pool.driftFromColumns(reference, current, { perColumnMethod: { [column]: 'chisquare', b: 'nope' as never } }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/unknown drift method 'nope'/) as unknown,
      });
    }
  });
});
