import type { Run } from '@trestle/core';
import { encodeMetricValue, toWireRun, type WireMetricValue } from '@trestle/core/rest';

/** One param or metric across the compared runs: a value per run (null where a run lacks it). */
export interface ComparedKey<V> {
  key: string;
  values: (V | null)[];
  /** Whether the runs disagree, a missing value counting as a value of its own. */
  differs: boolean;
}

/** Runs side by side, in the order asked for. */
export interface RunComparison {
  runs: ReturnType<typeof toWireRun>[];
  params: ComparedKey<string>[];
  metrics: ComparedKey<WireMetricValue>[];
}

/**
 * Lines up the params and latest metric values of several runs, key by key (sorted), and
 * marks the keys whose values differ. NaN equals NaN here: two runs that both diverged agree.
 *
 * @example
 * compareRuns([a, b]).params // [{ key: 'l2', values: ['0.1', '0.2'], differs: true }]
 */
export function compareRuns(runs: Run[]): RunComparison {
  const keysOf = (pick: (r: Run) => { key: string }[]): string[] =>
    [...new Set(runs.flatMap((r) => pick(r).map((x) => x.key)))].sort();
  const line = <V>(key: string, values: (V | null)[]): ComparedKey<V> => ({
    key,
    values,
    differs: new Set(values.map((v) => JSON.stringify(v))).size > 1,
  });
  return {
    runs: runs.map(toWireRun),
    params: keysOf((r) => r.data.params).map((key) =>
      line(
        key,
        runs.map((r) => r.data.params.find((p) => p.key === key)?.value ?? null),
      ),
    ),
    metrics: keysOf((r) => r.data.metrics).map((key) =>
      line(
        key,
        runs.map((r) => {
          const metric = r.data.metrics.find((m) => m.key === key);
          return metric === undefined ? null : encodeMetricValue(metric.value);
        }),
      ),
    ),
  };
}
