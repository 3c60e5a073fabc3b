import { compareRunValues, type Run } from '@trestle/core';
import { encodeMetricValue, toWireRun, type WireMetricValue } from '@trestle/core/rest';

/** One param or metric across the compared runs: a value per run (null where a run lacks it). */
interface ComparedKey<V> {
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
 * Runs side by side for `POST /runs/compare`: core's {@link compareRunValues} (exact equality,
 * NaN equals NaN), metric values encoded for the wire.
 *
 * @example
 * compareRuns([a, b]).params // [{ key: 'l2', values: ['0.1', '0.2'], differs: true }]
 */
export function compareRuns(runs: Run[]): RunComparison {
  const { params, metrics } = compareRunValues(runs);
  return {
    runs: runs.map(toWireRun),
    params,
    metrics: metrics.map((m) => ({ ...m, values: m.values.map((v) => (v === null ? null : encodeMetricValue(v))) })),
  };
}
