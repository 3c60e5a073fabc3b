import { describe, expect, it } from 'vitest';
import { buildReferenceProfile } from '../profile/build-profile.js';
import { WindowAccumulator } from '../window/accumulator.js';
import { windowQuality } from './window-quality.js';

describe('windowQuality', () => {
  const profile = buildReferenceProfile({
    x: Float64Array.from({ length: 1000 }, (_, i) => i / 10),
    c: Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 'a' : 'b')),
  });

  it('passes a clean window', () => {
    const acc = new WindowAccumulator(profile);
    for (let i = 0; i < 100; i++) acc.add({ x: i, c: 'a' });
    const q = windowQuality(profile, acc.snapshot());
    expect(q.passed).toBe(true);
    expect(q.schemaViolations).toBe(0);
    expect(q.checks.map((c) => c.passed)).toEqual([true, true, true, true]);
  });

  it('reports schema violations, nulls, out-of-range values and unseen categories', () => {
    const acc = new WindowAccumulator(profile);
    for (let i = 0; i < 80; i++) acc.add({ x: i, c: 'b' });
    for (let i = 0; i < 10; i++) acc.add({ x: 500 + i, c: 'zzz' });
    for (let i = 0; i < 5; i++) acc.add({ x: null, c: 'a' });
    acc.add({ x: 'oops', c: 'a' });
    acc.add({ c: 'a', extra: 1 });
    const q = windowQuality(profile, acc.snapshot());
    const x = q.features[0]!;
    const c = q.features[1]!;
    expect(x.invalid).toBe(1);
    expect(x.missing).toBe(1);
    expect(x.nulls).toBe(5);
    expect(x.outOfRange).toBe(10);
    expect(x.failed).toEqual(expect.arrayContaining(['schema', 'range']));
    expect(c.unseen).toBe(10);
    expect(c.unseenValues).toEqual({ zzz: 10 });
    expect(c.failed).toContain('unseen');
    expect(q.unknownFeatures).toEqual({ extra: 1 });
    expect(q.checks.find((k) => k.name === 'schema')!.features).toEqual(['x', 'extra']);
    expect(q.checks.find((k) => k.name === 'nulls')!.passed).toBe(true);
    expect(q.passed).toBe(false);
    const lenient = windowQuality(profile, acc.snapshot(), {
      maxOutOfRangeShare: 0.5,
      maxUnseenShare: 0.5,
      maxSchemaViolationShare: 0.1,
    });
    expect(lenient.passed).toBe(true);
  });
});
