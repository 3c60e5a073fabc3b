import { describe, expect, it } from 'vitest';
import { decodeMetricValue, encodeMetricValue, fromWireBatch } from './wire.js';

describe('metric values on the wire', () => {
  it.each([
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
    [0.5, 0.5],
    [1e308, 1e308],
  ] as const)('encodes %s as %s and back', (value, wire) => {
    expect(encodeMetricValue(value)).toBe(wire);
    expect(decodeMetricValue(wire)).toBe(value);
    // What JSON.stringify would have turned into null survives a JSON round trip.
    expect(decodeMetricValue(JSON.parse(JSON.stringify(encodeMetricValue(value))) as typeof wire)).toBe(value);
  });

  it('decodes a batch and defaults steps to 0', () => {
    expect(
      fromWireBatch({ metrics: [{ key: 'loss', value: 'NaN', timestamp: 5 }], params: [{ key: 'a', value: '1' }] }),
    ).toEqual({ metrics: [{ key: 'loss', value: NaN, timestamp: 5, step: 0 }], params: [{ key: 'a', value: '1' }] });
    expect(fromWireBatch({ tags: [] })).toEqual({ tags: [] });
  });
});
