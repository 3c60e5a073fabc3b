/**
 * Our statistics against SciPy's on the same seeded samples, to 1e-6: the Debian
 * `/usr/bin/python3` with python3-scipy computes the reference values (CI installs it; elsewhere
 * the test is skipped, saying why).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { normals, rng } from '../testing/random.js';
import { hellinger, jensenShannon, klDivergence, psi, wassersteinSorted } from './distances.js';
import { ksTwoSample } from './ks.js';
import { sortFloat64 } from './sort.js';
import { chi2Contingency, chiSquareDrift, zTestProportions } from './tests.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import scipy, numpy'], { encoding: 'utf8' });
const unavailable =
  probe.status === 0
    ? undefined
    : `${PYTHON} with SciPy is not available (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)})`;

const SCRIPT = String.raw`
import json, sys
import numpy as np
from scipy import stats
from scipy.spatial import distance
cases = json.load(sys.stdin)
out = []
for c in cases:
    k = c["kind"]
    if k == "ks":
        r = stats.ks_2samp(np.array(c["a"]), np.array(c["b"]))
        out.append([float(r.statistic), float(r.pvalue)])
    elif k == "wasserstein":
        out.append([float(stats.wasserstein_distance(c["a"], c["b"]))])
    elif k == "js":
        out.append([float(distance.jensenshannon(c["a"], c["b"]))])
    elif k == "chi2":
        r = stats.chi2_contingency(np.array([c["a"], c["b"]]))
        out.append([float(r[0]), float(r[1])])
    elif k == "chisquare":
        ref = np.array(c["a"], dtype=float); cur = np.array(c["b"], dtype=float)
        r = stats.chisquare(cur, ref * cur.sum() / ref.sum())
        out.append([float(r[0]), float(r[1])])
    elif k == "z":
        k1, n1, k2, n2 = c["a"]
        p1, p2 = k1 / n1, k2 / n2
        P = (k1 + k2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
        out.append([float(z), float(2 * stats.norm.sf(abs(z)))])
    elif k == "psi_kl_hellinger":
        r = np.array(c["a"], dtype=float) / sum(c["a"]); q = np.array(c["b"], dtype=float) / sum(c["b"])
        def fill(p):
            p = p.copy(); m = p[p != 0].min()
            np.place(p, p == 0, m / 10**6 if m < 0.0001 else 0.0001); return p
        rf, qf = fill(r), fill(q)
        psi = float(np.sum((rf - qf) * np.log(rf / qf)))
        kl = float(stats.entropy(rf, qf))
        h = float(np.sqrt(1 - np.clip(np.sum(np.sqrt(r * q)), 0, 1)))
        out.append([psi, kl, h])
json.dump(out, sys.stdout)
`;

type Case = { kind: string; a: number[]; b: number[] };

function scipy(cases: Case[]): number[][] {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 28 }),
  ) as number[][];
}

function close(ours: number, theirs: number): void {
  expect(Math.abs(ours - theirs), `ours ${ours} vs SciPy ${theirs}`).toBeLessThanOrEqual(
    1e-6 * Math.max(1, Math.abs(theirs)),
  );
}

const counts = (random: () => number, k: number, n: number, skew: number): number[] => {
  const w = Array.from({ length: k }, (_, i) => Math.exp(-skew * i) + 0.05);
  const s = w.reduce((a, b) => a + b, 0);
  const out = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    let u = random() * s;
    let j = 0;
    while (j < k - 1 && (u -= w[j]!) > 0) j++;
    out[j]!++;
  }
  return out;
};

describe.skipIf(unavailable !== undefined && process.env['CI'] !== 'true')('agreement with SciPy to 1e-6', () => {
  if (unavailable !== undefined) console.warn(`skipping the SciPy agreement test: ${unavailable}`);

  it('ks_2samp: exact (equal and unequal sizes, ties) and asymptotic p-values', () => {
    if (unavailable !== undefined) throw new Error(`CI=true but ${unavailable}`);
    const random = rng(42);
    const round = (a: Float64Array, step: number): Float64Array => a.map((v) => Math.round(v / step) * step);
    const samples: [Float64Array, Float64Array][] = [
      [normals(random, 200), normals(random, 300, 0.3)],
      [normals(random, 500), normals(random, 500, 0.1)],
      [normals(random, 800), normals(random, 1000)],
      [normals(random, 37), normals(random, 91, 0.5, 2)],
      [round(normals(random, 400), 0.5), round(normals(random, 600, 0.2), 0.5)],
      [normals(random, 3000), normals(random, 7000, 0.05)],
      [normals(random, 20_000), normals(random, 15_000, 0.03)],
      [normals(random, 30_000), normals(random, 12_000, 0.1)],
      [normals(random, 50_000), normals(random, 40_000)],
    ];
    const expected = scipy(samples.map(([a, b]) => ({ kind: 'ks', a: Array.from(a), b: Array.from(b) })));
    samples.forEach(([a, b], i) => {
      const r = ksTwoSample(sortFloat64(a), sortFloat64(b));
      close(r.statistic, expected[i]![0]!);
      close(r.pValue, expected[i]![1]!);
    });
  });

  it('wasserstein_distance and jensenshannon', () => {
    const random = rng(7);
    const round = (a: Float64Array, step: number): Float64Array => a.map((v) => Math.round(v / step) * step);
    // Unequal and equal sizes (two walks), ties across the samples, and sizes where the bucket sort recurses.
    const pairs = [
      [normals(random, 1000), normals(random, 1500, 0.4, 1.3)],
      [normals(random, 50_000, 10, 3), normals(random, 20_000, 11, 3)],
      [round(normals(random, 3000), 0.25), round(normals(random, 2000, 0.3), 0.25)],
      [round(normals(random, 4000), 0.5), round(normals(random, 4000, 0.2), 0.5)],
      [normals(random, 60_000).map(Math.exp), normals(random, 60_000, 0.1).map(Math.exp)],
    ] as const;
    const vectors = [
      [counts(random, 8, 5000, 0.3), counts(random, 8, 3000, 0.5)],
      [counts(random, 30, 100_000, 0.1), counts(random, 30, 100_000, 0.12)],
      [
        [10, 0, 5, 0],
        [0, 3, 5, 2],
      ],
    ];
    const expected = scipy([
      ...pairs.map(([a, b]) => ({ kind: 'wasserstein', a: Array.from(a), b: Array.from(b) })),
      ...vectors.map(([a, b]) => ({ kind: 'js', a: a!, b: b! })),
    ]);
    pairs.forEach(([a, b], i) => close(wassersteinSorted(sortFloat64(a), sortFloat64(b)), expected[i]![0]!));
    vectors.forEach(([a, b], i) => close(jensenShannon(a!, b!), expected[pairs.length + i]![0]!));
  });

  it('chi2_contingency (with Yates on 2x2), chisquare, the Z-test, PSI, KL and Hellinger', () => {
    const random = rng(99);
    const tables = [
      [counts(random, 2, 400, 0.2), counts(random, 2, 500, 0.5)],
      [counts(random, 5, 2000, 0.3), counts(random, 5, 1000, 0.35)],
      [counts(random, 12, 10_000, 0.1), counts(random, 12, 8000, 0.2)],
    ];
    const zs: [number, number, number, number][] = [
      [120, 400, 150, 420],
      [5000, 10_000, 5100, 10_000],
    ];
    const expected = scipy([
      ...tables.map(([a, b]) => ({ kind: 'chi2', a: a!, b: b! })),
      ...tables.map(([a, b]) => ({ kind: 'chisquare', a: a!, b: b! })),
      ...zs.map((z) => ({ kind: 'z', a: z, b: [] })),
      ...tables.map(([a, b]) => ({ kind: 'psi_kl_hellinger', a: a!, b: b! })),
    ]);
    let k = 0;
    for (const [a, b] of tables) {
      const r = chi2Contingency(a!, b!);
      close(r.statistic, expected[k]![0]!);
      close(r.pValue, expected[k++]![1]!);
    }
    for (const [a, b] of tables) {
      const r = chiSquareDrift(a!, b!);
      close(r.statistic, expected[k]![0]!);
      close(r.pValue, expected[k++]![1]!);
    }
    for (const [k1, n1, k2, n2] of zs) {
      const r = zTestProportions(k1, n1, k2, n2);
      close(r.statistic, expected[k]![0]!);
      close(r.pValue, expected[k++]![1]!);
    }
    for (const [a, b] of tables) {
      close(psi(a!, b!), expected[k]![0]!);
      close(klDivergence(a!, b!), expected[k]![1]!);
      close(hellinger(a!, b!), expected[k++]![2]!);
    }
  });
});
