import { describe, expect, it } from 'vitest';
import { sparkline } from './sparkline.js';

describe('sparkline', () => {
  it('draws a falling loss from the highest bar to the lowest', () => {
    expect(sparkline([3, 2, 1, 0.5, 0], 5)).toBe('█▆▃▂▁');
  });

  it('fits long series into the width by averaging groups', () => {
    const line = sparkline(
      Array.from({ length: 1000 }, (_, i) => i),
      20,
    );
    expect([...line]).toHaveLength(20);
    expect(line.startsWith('▁')).toBe(true);
    expect(line.endsWith('█')).toBe(true);
  });

  it('leaves gaps for non-finite values and draws a flat series at full height', () => {
    expect(sparkline([1, NaN, 1], 3)).toBe('█ █');
    expect(sparkline([], 10)).toBe('');
  });
});
