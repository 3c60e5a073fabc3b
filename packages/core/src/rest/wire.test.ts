import { describe, expect, it } from 'vitest';
import {
  decodeMetricValue,
  encodeJson,
  encodeMetricValue,
  fromWireBatch,
  fromWireRun,
  toWireBatch,
  toWireRun,
} from './wire.js';

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

  it('refuses a value that is not a number instead of sending it as something else', () => {
    // A string compares greater than 0: without the check '1' went out as "Infinity".
    expect(() => toWireBatch({ metrics: [{ key: 'loss', value: '1' as never, timestamp: 5, step: 0 }] })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: `value of metric 'loss' must be a number, got "1"`,
      }),
    );
    expect(() => encodeMetricValue(null as never)).toThrow(/a metric value must be a number, got null/);
  });

  it('decodes a batch and defaults steps to 0', () => {
    expect(
      fromWireBatch({ metrics: [{ key: 'loss', value: 'NaN', timestamp: 5 }], params: [{ key: 'a', value: '1' }] }),
    ).toEqual({ metrics: [{ key: 'loss', value: NaN, timestamp: 5, step: 0 }], params: [{ key: 'a', value: '1' }] });
    expect(fromWireBatch({ tags: [] })).toEqual({ tags: [] });
  });
});

describe('JSON with non-finite metric values', () => {
  it('encodes NaN and ±Infinity as strings and leaves text alone', () => {
    expect(encodeJson({ a: NaN, b: Infinity, c: -Infinity, d: 1.5, e: 'NaN' })).toBe(
      '{"a":"NaN","b":"Infinity","c":"-Infinity","d":1.5,"e":"NaN"}',
    );
  });

  it('refuses a metric value that is neither a number nor one of the three strings', () => {
    expect(() => decodeMetricValue('nan' as 'NaN')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('round-trips a run and a batch through the wire form', () => {
    const metric = { key: 'loss', value: -Infinity, timestamp: 1, step: 2 };
    const run = {
      info: {
        runId: 'r',
        runName: 'n',
        experimentId: '0',
        userId: '',
        status: 'RUNNING' as const,
        startTime: 1,
        endTime: null,
        artifactUri: 'a',
        lifecycleStage: 'active' as const,
      },
      data: { metrics: [metric], params: [], tags: [] },
      inputs: { datasetInputs: [] },
    };
    const wire = toWireRun(run);
    expect(wire.data.metrics[0]?.value).toBe('-Infinity');
    expect(fromWireRun(JSON.parse(JSON.stringify(wire)) as typeof wire)).toEqual(run);
    expect(fromWireBatch(toWireBatch({ metrics: [metric] }))).toEqual({ metrics: [metric] });
  });
});
