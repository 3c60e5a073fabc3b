const BARS = '▁▂▃▄▅▆▇█';

/**
 * A one-line chart of `values` in at most `width` characters: values are split into `width`
 * consecutive groups, each drawn as the bar of its mean between the overall min and max.
 * Non-finite values are left out; a group with none is a space.
 *
 * @example sparkline([3, 2, 1, 0.5, 0.4], 5); // '█▅▃▂▁'
 */
export function sparkline(values: readonly number[], width = 40): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const columns = Math.max(1, Math.min(width, values.length));
  let out = '';
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * values.length) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * values.length) / columns));
    let sum = 0;
    let n = 0;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    if (n === 0) {
      out += ' ';
      continue;
    }
    const level = max === min ? BARS.length - 1 : Math.round(((sum / n - min) / (max - min)) * (BARS.length - 1));
    out += BARS[level];
  }
  return out;
}
