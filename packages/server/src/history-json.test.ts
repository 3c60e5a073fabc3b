import type { Metric, RunStore } from '@trestle/core';
import { describe, expect, it } from 'vitest';
import { metricHistoryJson } from './history-json.js';

const points: Metric[] = [
  { key: 'loss', value: NaN, timestamp: 1, step: 0 },
  { key: 'loss', value: 0.5, timestamp: 2, step: 1 },
  { key: 'loss', value: -Infinity, timestamp: 3, step: 2 },
];

describe('metricHistoryJson', () => {
  it('uses the store’s own JSON when it has it', async () => {
    const store = {
      getMetricHistoryJson: (runId: string, key: string) => Promise.resolve(`[${runId}:${key}]`),
    } as unknown as RunStore;
    expect(await metricHistoryJson(store, 'r1', 'loss')).toBe('[r1:loss]');
  });

  it('falls back to the history’s points in the wire encoding', async () => {
    const asked: unknown[] = [];
    const store = {
      getMetricHistory: (...args: unknown[]) => {
        asked.push(args);
        return Promise.resolve({ items: points });
      },
    } as unknown as RunStore;
    expect(await metricHistoryJson(store, 'r1', 'loss')).toBe(
      '[{"key":"loss","value":"NaN","timestamp":1,"step":0},{"key":"loss","value":0.5,"timestamp":2,"step":1},{"key":"loss","value":"-Infinity","timestamp":3,"step":2}]',
    );
    expect(asked).toEqual([['r1', 'loss']]);
  });
});
