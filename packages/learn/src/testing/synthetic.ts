import type { ColumnBatch } from '../columns.js';
import { seededRandom } from '../gbdt/random.js';

/** Categories of the synthetic categorical feature, and their effect on the target. */
const SYNTHETIC_CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;
const EFFECT = [1, -1, 0.5, 0, 2, -2, 0.3, -0.7];

/**
 * A synthetic table for trainer tests: `x1` uniform in [0, 10) with a non-linear effect,
 * `x2` in [−1, 1) missing 10 % of the time (missing has its own effect), and a categorical
 * `c` with 8 levels (missing 5 %), combined into a score `z`. `binary` draws a label from
 * σ(z); `multiclass` buckets z into 3 classes; `regression` is z plus noise.
 */
export function syntheticTable(
  n: number,
  seed = 1,
): { batch: ColumnBatch; z: Float64Array; binary: Float64Array; multiclass: Float64Array; regression: Float64Array } {
  const random = seededRandom(seed);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const c = new Int32Array(n);
  const z = new Float64Array(n);
  const binary = new Float64Array(n);
  const multiclass = new Float64Array(n);
  const regression = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = random.next() * 10;
    x2[i] = random.next() < 0.1 ? NaN : random.next() * 2 - 1;
    c[i] = random.next() < 0.05 ? -1 : Math.floor(random.next() * 8);
    const zi = Math.sin(x1[i]!) + (Number.isNaN(x2[i]!) ? 1 : x2[i]! * 2) + (c[i]! >= 0 ? EFFECT[c[i]!]! : -1);
    z[i] = zi;
    binary[i] = random.next() < 1 / (1 + Math.exp(-zi)) ? 1 : 0;
    const noisy = zi + (random.next() - 0.5);
    multiclass[i] = noisy < -0.5 ? 0 : noisy < 1 ? 1 : 2;
    regression[i] = zi + (random.next() - 0.5) * 0.2;
  }
  return {
    batch: {
      rows: n,
      columns: [
        { name: 'x1', type: 'numeric', values: x1 },
        { name: 'x2', type: 'numeric', values: x2 },
        { name: 'c', type: 'categorical', codes: c, categories: [...SYNTHETIC_CATEGORIES] },
      ],
    },
    z,
    binary,
    multiclass,
    regression,
  };
}

/** Column `k` of a row-major rows × width matrix. */
export function column(values: Float64Array, width: number, k: number): Float64Array {
  const out = new Float64Array(values.length / width);
  for (let i = 0; i < out.length; i++) out[i] = values[i * width + k]!;
  return out;
}
