/** Output columns turned into the shapes the protocols answer with. */
import type { Outputs } from '../predictor.js';

/** One object per row: `[{ label: '1', probability: 0.83 }, …]`. */
export function outputRecords(outputs: Outputs): Record<string, number | string>[] {
  const names = Object.keys(outputs);
  const rows = names.length === 0 ? 0 : outputs[names[0]!]!.length;
  const out = new Array<Record<string, number | string>>(rows);
  for (let r = 0; r < rows; r++) {
    const rec: Record<string, number | string> = {};
    for (const n of names) rec[n] = outputs[n]![r]!;
    out[r] = rec;
  }
  return out;
}

/** MLflow's `predictions`: a plain list for a single output, records otherwise (a DataFrame `orient="records"`). */
export function mlflowPredictions(outputs: Outputs): unknown[] {
  const names = Object.keys(outputs);
  if (names.length === 1) return Array.from(outputs[names[0]!]! as ArrayLike<number | string>);
  return outputRecords(outputs);
}
