import { describe, expect, it } from 'vitest';
import { buildReferenceProfile } from '../profile/build-profile.js';
import { parseWindowSummary } from '../profile/parse.js';
import type { CategoricalWindowFeature, NumericWindowFeature } from '../profile/schema.js';
import { WindowAccumulator, emptyWindow, mergeWindows } from './accumulator.js';

const profile = buildReferenceProfile(
  {
    distance: Float64Array.from({ length: 1000 }, (_, i) => i),
    origin: Array.from(
      { length: 1000 },
      (_, i) => ['SFO', 'SFO', 'SFO', 'SFO', 'SFO', 'LAX', 'LAX', 'LAX', 'JFK', 'ORD'][i % 10]!,
    ),
  },
  {
    bins: 10,
    topK: 2,
    prediction: {
      task: 'binary-classification',
      outputs: { probability: Float64Array.from({ length: 1000 }, (_, i) => i / 1000) },
    },
  },
);

describe('WindowAccumulator', () => {
  it('counts live values on the reference bins, with under/overflow, nulls, wrong types and unseen categories', () => {
    const acc = new WindowAccumulator(profile);
    acc.add({ distance: 5, origin: 'SFO' }, { probability: 0.95 });
    acc.add({ distance: 950, origin: 'JFK' });
    acc.add({ distance: -3, origin: 'BOS' });
    acc.add({ distance: 5000, origin: null });
    acc.add({ distance: NaN, origin: 42 });
    acc.add({ distance: 'far', origin: { x: 1 } });
    acc.add({ origin: 'SFO', extra: 1 });
    const w = acc.snapshot({ start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:01:00Z' });
    expect(w.rows).toBe(7);
    const d = w.features[0] as NumericWindowFeature;
    expect(d.count).toBe(4);
    expect(d.counts[0]).toBe(1);
    expect(d.counts[9]).toBe(1);
    expect(d.under).toBe(1);
    expect(d.over).toBe(1);
    expect(d.underSum).toBe(-3);
    expect(d.nulls).toBe(2); // NaN and the row without it (also counted as missing below)
    expect(d.invalid).toBe(1);
    expect(d.min).toBe(-3);
    expect(d.max).toBe(5000);
    const o = w.features[1] as CategoricalWindowFeature;
    expect(o.counts).toEqual([2, 0]);
    expect(o.other).toBe(1); // JFK is a training category beyond the top 2
    expect(o.unseen).toBe(2); // BOS and "42"
    expect(o.unseenValues).toEqual({ BOS: 1, '42': 1 });
    expect(o.nulls).toBe(1);
    expect(o.invalid).toBe(1);
    expect(w.missingFeatures).toEqual({ distance: 1 });
    expect(w.unknownFeatures).toEqual({ extra: 1 });
    expect((w.outputs[0] as NumericWindowFeature).counts[9]).toBe(1);
    expect(parseWindowSummary(JSON.parse(JSON.stringify(w)))).toEqual(w);
  });

  it('counts the same from columns as from rows', () => {
    const distance = Float64Array.from({ length: 300 }, (_, i) => ((i * 7.3) % 1100) - 20);
    const origin = Array.from({ length: 300 }, (_, i) => ['SFO', 'LAX', 'JFK', 'ORD', 'BOS', null][i % 6]!);
    const byRow = new WindowAccumulator(profile);
    for (let i = 0; i < 300; i++) byRow.add({ distance: distance[i], origin: origin[i] });
    const byColumn = new WindowAccumulator(profile);
    byColumn.addColumns({ distance, origin });
    const codes = new WindowAccumulator(profile);
    const dictionary = ['SFO', 'LAX', 'JFK', 'ORD', 'BOS'];
    codes.addColumns({
      distance,
      origin: { codes: Int32Array.from(origin, (o) => (o === null ? -1 : dictionary.indexOf(o))), dictionary },
    });
    expect(byColumn.snapshot()).toEqual(byRow.snapshot());
    expect(codes.snapshot()).toEqual(byRow.snapshot());
  });

  it('merges windows into the window of all their rows', () => {
    const all = new WindowAccumulator(profile);
    const a = new WindowAccumulator(profile);
    const b = new WindowAccumulator(profile);
    for (let i = 0; i < 200; i++) {
      const row = { distance: i * 6 - 50, origin: ['SFO', 'ORD', 'XYZ'][i % 3]! };
      all.add(row, { probability: i / 200 });
      (i % 2 === 0 ? a : b).add(row, { probability: i / 200 });
    }
    const merged = mergeWindows(
      a.snapshot({ start: '2026-01-01T00:01:00Z' }),
      b.snapshot({ start: '2026-01-01T00:00:00Z' }),
    );
    const whole = all.snapshot({ start: '2026-01-01T00:00:00Z' });
    expect(merged.rows).toBe(whole.rows);
    expect(merged.features).toEqual(
      whole.features.map((f) =>
        f.kind === 'numeric' ? { ...f, sum: expect.closeTo(f.sum, 6), sumSquares: expect.closeTo(f.sumSquares, 3) } : f,
      ),
    );
    expect(merged.start).toBe('2026-01-01T00:00:00Z');
  });

  it('refuses to merge windows of different bins and resets to empty', () => {
    const other = buildReferenceProfile({ distance: [1, 2, 3] });
    expect(() => mergeWindows(emptyWindow(profile), emptyWindow(other))).toThrow(/different reference bins/);
    const acc = new WindowAccumulator(profile);
    acc.add({ distance: 1, origin: 'SFO' });
    acc.reset();
    expect(acc.snapshot()).toEqual(emptyWindow(profile));
  });

  it('bounds the names it keeps but counts every value', () => {
    const acc = new WindowAccumulator(profile, { maxUnseenValues: 3, maxUnknownFeatures: 2 });
    for (let i = 0; i < 100; i++) acc.add({ distance: 1, origin: `new-${i}`, [`f${i}`]: 1 });
    const w = acc.snapshot();
    const o = w.features[1] as CategoricalWindowFeature;
    expect(o.unseen).toBe(100);
    expect(Object.keys(o.unseenValues)).toHaveLength(3);
    expect(Object.keys(w.unknownFeatures)).toHaveLength(2);
  });
});
