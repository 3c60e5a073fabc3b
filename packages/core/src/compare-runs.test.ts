import { describe, expect, it } from 'vitest';
import { compareRunValues } from './compare-runs.js';
import type { Run } from './run.js';

const run = (params: Record<string, string>, metrics: Record<string, number>): Run =>
  ({
    info: { runId: 'r', experimentId: '0', runName: 'r', status: 'FINISHED' },
    data: {
      params: Object.entries(params).map(([key, value]) => ({ key, value })),
      metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: 0 })),
      tags: [],
    },
  }) as unknown as Run;

describe('compareRunValues', () => {
  const a = run({ l2: '0.1', seed: '1' }, { acc: 0.58401, loss: NaN });
  const b = run({ l2: '0.2', seed: '1' }, { acc: 0.58399, loss: NaN, extra: 1 });

  it('lines keys up sorted, null where a run lacks one, and compares exactly by default (NaN equals NaN)', () => {
    expect(compareRunValues([a, b])).toEqual({
      params: [
        { key: 'l2', values: ['0.1', '0.2'], differs: true },
        { key: 'seed', values: ['1', '1'], differs: false },
      ],
      metrics: [
        { key: 'acc', values: [0.58401, 0.58399], differs: true },
        { key: 'extra', values: [null, 1], differs: true },
        { key: 'loss', values: [NaN, NaN], differs: false },
      ],
    });
  });

  it('compares as shown when given how values are shown', () => {
    const shown = (v: string | number | null): string =>
      v === null ? '-' : typeof v === 'number' ? v.toPrecision(3) : v;
    expect(compareRunValues([a, b], shown).metrics.find((m) => m.key === 'acc')?.differs).toBe(false);
  });
});
