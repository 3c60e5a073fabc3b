import { describe, expect, it } from 'vitest';
import { chooseWidth, downsampleHistory, planPieces } from './downsample.js';
import type { HistoryReader } from './downsample.js';
import { ROLLUP_WIDTHS, latestPoint, mergeInto, rollupPoints } from './rollups.js';
import type { BucketSummary, Point } from './rollups.js';

/** A reader over points held in memory, with rollups merged batch by batch as the store does. */
function memoryReader(points: Point[], batch = 1000): HistoryReader & { reads: number[] } {
  const rollups = new Map<string, BucketSummary>();
  for (let i = 0; i < points.length; i += batch) {
    for (const { width, bucket, summary } of rollupPoints(points.slice(i, i + batch))) {
      const key = `${width}:${bucket}`;
      const old = rollups.get(key);
      rollups.set(key, old === undefined ? summary : mergeInto(old, summary));
    }
  }
  const sorted = [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  const reads: number[] = [];
  return {
    reads,
    rollups(width, from = -Infinity, to = Infinity) {
      const out = [...rollups]
        .map(([k, s]) => [Number(k.split(':')[0]), Number(k.split(':')[1]), s] as const)
        .filter(([w, b]) => w === width && b >= from && b <= to)
        .sort((x, y) => x[1] - y[1])
        .map(([, , s]) => s);
      reads.push(out.length);
      return Promise.resolve(out);
    },
    raw(from, to) {
      const out = sorted.filter((p) => p.step >= from && p.step <= to);
      reads.push(out.length);
      return Promise.resolve(out);
    },
  };
}

const series = (n: number, f: (step: number) => number): Point[] =>
  Array.from({ length: n }, (_, step) => ({ step, timestamp: 1000 + step, value: f(step) }));

describe('rollups', () => {
  it('merging batch summaries equals summarising everything at once', () => {
    const points = series(5000, (s) => Math.sin(s) * (s % 7 === 0 ? NaN : 1));
    const whole = new Map(rollupPoints(points).map((r) => [`${r.width}:${r.bucket}`, r.summary]));
    const merged = new Map<string, BucketSummary>();
    for (let i = 0; i < points.length; i += 333) {
      for (const r of rollupPoints(points.slice(i, i + 333).reverse())) {
        const k = `${r.width}:${r.bucket}`;
        const old = merged.get(k);
        merged.set(k, old === undefined ? r.summary : mergeInto(old, r.summary));
      }
    }
    expect(merged).toEqual(whole);
  });

  it('ignores NaN for min and max', () => {
    const [row] = rollupPoints([
      { step: 0, timestamp: 0, value: NaN },
      { step: 1, timestamp: 0, value: 3 },
      { step: 2, timestamp: 0, value: NaN },
    ]);
    expect(row!.summary).toMatchObject({ count: 3, min: { value: 3 }, max: { value: 3 } });
    expect(row!.summary.first.value).toBeNaN();
    expect(rollupPoints([{ step: 0, timestamp: 0, value: NaN }])[0]!.summary.min).toBeNull();
  });

  it('picks the latest point by step, then timestamp, then value with NaN lowest', () => {
    expect(
      latestPoint([
        { step: 5, timestamp: 1, value: 0 },
        { step: 3, timestamp: 9, value: 9 },
      ]),
    ).toMatchObject({ step: 5 });
    expect(
      latestPoint([
        { step: 5, timestamp: 1, value: 0 },
        { step: 5, timestamp: 2, value: -1 },
      ]),
    ).toMatchObject({ timestamp: 2 });
    expect(
      latestPoint([
        { step: 5, timestamp: 2, value: 1 },
        { step: 5, timestamp: 2, value: NaN },
      ]),
    ).toMatchObject({ value: 1 });
    expect(latestPoint([])).toBeUndefined();
  });
});

describe('downsample planning', () => {
  it('covers a range with aligned rollup pieces and short raw edges, in order and without overlap', () => {
    for (const [lo, hi] of [
      [1000, 300_000],
      [0, 65_535],
      [-700, 700],
      [5, 200],
    ] as const) {
      for (let wi = 0; wi < ROLLUP_WIDTHS.length; wi++) {
        const pieces = planPieces(lo, hi, wi);
        let next = lo;
        for (const p of pieces) {
          const [from, to] =
            p.kind === 'raw' ? [p.fromStep, p.toStep] : [p.fromBucket * p.width, (p.toBucket + 1) * p.width - 1];
          expect(from).toBe(next);
          if (p.kind === 'raw') expect(to - from).toBeLessThan(ROLLUP_WIDTHS[0]);
          next = to + 1;
        }
        expect(next).toBe(hi + 1);
      }
    }
  });

  it('chooses the finest width that keeps the row count under the limit', () => {
    expect(chooseWidth(0, 999_999, 2000)).toBe(ROLLUP_WIDTHS.indexOf(1024));
    expect(chooseWidth(0, 1000, 2000)).toBe(0);
    expect(chooseWidth(0, 1e12, 10)).toBe(ROLLUP_WIDTHS.length - 1);
  });
});

describe('downsampleHistory', () => {
  it('bounds the output, keeps a spike and both ends, and reads few rows', async () => {
    const points = series(300_000, (s) => (s === 123_457 ? 50 : Math.cos(s / 1000)));
    const reader = memoryReader(points);
    const out = await downsampleHistory(reader, { points: 1000 });
    expect(out.length).toBeLessThanOrEqual(1000);
    expect(out.length).toBeGreaterThan(500);
    expect(out).toContainEqual({ step: 123_457, timestamp: 1000 + 123_457, value: 50 });
    expect(out[0]).toEqual(points[0]);
    expect(out.at(-1)).toEqual(points.at(-1));
    expect(Math.max(...reader.reads)).toBeLessThanOrEqual(2000);
  });

  it('returns short histories and narrow ranges raw', async () => {
    const points = series(5000, (s) => s);
    expect(await downsampleHistory(memoryReader(points), { points: 5000 })).toEqual(points);
    expect(
      await downsampleHistory(memoryReader(series(100_000, (s) => s)), {
        points: 100,
        startStep: 70_000,
        endStep: 70_049,
      }),
    ).toHaveLength(50);
  });

  it('keeps only points inside a step range, with its exact ends', async () => {
    const points = series(200_000, (s) => Math.sin(s));
    const out = await downsampleHistory(memoryReader(points), { points: 300, startStep: 12_345, endStep: 150_001 });
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out[0]!.step).toBe(12_345);
    expect(out.at(-1)!.step).toBe(150_001);
    expect(out.every((p) => p.step >= 12_345 && p.step <= 150_001)).toBe(true);
  });

  it('summarises a step-less metric as first, smallest, largest and last', async () => {
    const points = Array.from({ length: 50_000 }, (_, i) => ({
      step: 0,
      timestamp: i,
      value: i === 10 ? -5 : i === 20 ? 5 : 0,
    }));
    const out = await downsampleHistory(memoryReader(points), { points: 100 });
    expect(out.map((p) => p.value)).toEqual([0, -5, 5, 0]);
    expect(out[0]!.timestamp).toBe(0);
    expect(out.at(-1)!.timestamp).toBe(49_999);
  });

  it('copes with NaN: extremes skip it, a NaN-only stretch still shows', async () => {
    const points = series(40_000, (s) => (s >= 10_000 && s < 20_000 ? NaN : s % 100));
    const out = await downsampleHistory(memoryReader(points), { points: 100 });
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out.some((p) => Number.isNaN(p.value))).toBe(true);
    expect(out.some((p) => p.value === 99)).toBe(true);
    expect(await downsampleHistory(memoryReader([]), { points: 10 })).toEqual([]);
  });
});
