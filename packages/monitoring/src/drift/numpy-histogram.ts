/**
 * NumPy's `histogram_bin_edges(x, bins='sturges')` and `histogram(x, edges)` for sorted data,
 * reproduced step by step (including its rounding fix-ups) so that binned distances on raw
 * values equal Evidently's.
 */

/** Sturges edges for `size` values spanning [min, max]. */
export function sturgesEdges(min: number, max: number, size: number): Float64Array {
  let first = min;
  let last = max;
  let bins = 1;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  } else {
    const width = (max - min) / (Math.log2(size) + 1);
    bins = width > 0 ? Math.ceil((last - first) / width) : 1;
  }
  const edges = new Float64Array(bins + 1);
  const step = (last - first) / bins;
  for (let i = 0; i < bins; i++) edges[i] = first + i * step;
  edges[bins] = last;
  return edges;
}

/** Counts per bin of `edges` (uniform, last bin closed) of the values; values outside are ignored. */
export function histogram(values: ArrayLike<number>, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const first = edges[0]!;
  const last = edges[bins]!;
  const norm = bins / (last - first);
  const counts = new Float64Array(bins);
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    if (!(x >= first && x <= last)) continue;
    let i = Math.trunc((x - first) * norm);
    if (i === bins) i--;
    if (x < edges[i]!) i--;
    else if (i !== bins - 1 && x >= edges[i + 1]!) i++;
    counts[i]!++;
  }
  return counts;
}
