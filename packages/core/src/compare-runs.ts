import type { Run } from './run.js';

/** One param or metric across compared runs: a value per run (null where a run lacks it). */
export interface ComparedValues<V> {
  key: string;
  values: (V | null)[];
  /** Whether the runs disagree, a missing value counting as a value of its own. */
  differs: boolean;
}

/** The params and latest metrics of several runs, key by key (sorted), in the runs' order. */
export interface RunValueComparison {
  params: ComparedValues<string>[];
  metrics: ComparedValues<number>[];
}

/** Exact equality: NaN equals NaN (two runs that both diverged agree), a missing value equals only another. */
const exact = (value: string | number | null): string => (value === null ? 'null' : `${typeof value}:${String(value)}`);

/**
 * The one comparison of runs (REST `POST /runs/compare` and `trestle runs compare`): lines up
 * params and latest metric values and marks the keys whose values differ. Two values are the
 * same when `same` maps them to the same text: by default exactly; the CLI passes what it
 * prints, so 0.58401 and 0.58399, both printed 0.584, do not differ there.
 *
 * @example
 * compareRunValues([a, b]).params // [{ key: 'l2', values: ['0.1', '0.2'], differs: true }]
 * compareRunValues([a, b], (v) => (typeof v === 'number' ? v.toPrecision(4) : String(v)))
 */
export function compareRunValues(
  runs: readonly Run[],
  same: (value: string | number | null) => string = exact,
): RunValueComparison {
  const keysOf = (pick: (r: Run) => readonly { key: string }[]): string[] =>
    [...new Set(runs.flatMap((r) => pick(r).map((x) => x.key)))].sort();
  const line = <V extends string | number>(key: string, values: (V | null)[]): ComparedValues<V> => ({
    key,
    values,
    differs: new Set(values.map(same)).size > 1,
  });
  return {
    params: keysOf((r) => r.data.params).map((key) =>
      line(
        key,
        runs.map((r) => r.data.params.find((p) => p.key === key)?.value ?? null),
      ),
    ),
    metrics: keysOf((r) => r.data.metrics).map((key) =>
      line(
        key,
        runs.map((r) => r.data.metrics.find((m) => m.key === key)?.value ?? null),
      ),
    ),
  };
}
