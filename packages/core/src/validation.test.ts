import { describe, expect, it } from 'vitest';
import { checkBatchLimits, validateKey, validateMetric, validateParam, validateTag } from './validation.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('input rules shared by the stores and the SDK', () => {
  it('accepts keys up to 250 characters and refuses longer, empty, absolute or escaping ones', () => {
    expect(validateKey('metric', 'k'.repeat(250))).toHaveLength(250);
    expect(validateKey('metric', 'train/loss')).toBe('train/loss');
    for (const bad of ['k'.repeat(251), '', '/abs', 'a/../b', 'tab\there', 42]) {
      expect(code(() => validateKey('metric', bad))).toBe('INVALID_ARGUMENT');
    }
  });

  it('checks a metric point: a number value (NaN and ±Infinity included), integer step and timestamp', () => {
    const ok = { key: 'loss', value: NaN, step: 3, timestamp: 1_700_000_000_000 };
    expect(validateMetric(ok)).toEqual(ok);
    expect(validateMetric({ ...ok, value: -Infinity }).value).toBe(-Infinity);
    expect(code(() => validateMetric({ ...ok, value: '1' as unknown as number }))).toBe('INVALID_ARGUMENT');
    expect(code(() => validateMetric({ ...ok, step: 0.5 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => validateMetric({ ...ok, timestamp: Number.MAX_SAFE_INTEGER + 2 }))).toBe('INVALID_ARGUMENT');
  });

  it('limits param and tag values, and batch sizes', () => {
    expect(code(() => validateParam({ key: 'p', value: 'x'.repeat(6001) }))).toBe('INVALID_ARGUMENT');
    expect(validateTag({ key: 't', value: 'x'.repeat(8000) }).value).toHaveLength(8000);
    expect(
      code(() => checkBatchLimits({ params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '' })) })),
    ).toBe('RESOURCE_EXHAUSTED');
  });
});
