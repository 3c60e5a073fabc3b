/**
 * The one place the REST wire differs from the core types: a metric value. JSON has no NaN or
 * ±Infinity, so those travel as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, in both
 * directions. The server encodes its answers and decodes requests with these functions; the
 * client does the reverse with the same ones.
 */
import type { Static } from 'typebox';
import { TrestleError } from '../errors.js';
import type { LogBatchInput as CoreLogBatchInput } from '../ports/run-store.js';
import type { Metric as CoreMetric, Run as CoreRun } from '../run.js';
import type { LogBatchInput, Metric, MetricValue, Run } from './runs.js';

/** A metric value as JSON carries it: a number, or a string for NaN and ±Infinity. */
export type WireMetricValue = Static<typeof MetricValue>;
/** A metric point as JSON carries it. */
export type WireMetric = Static<typeof Metric>;
/** A run as JSON carries it (its latest metric values encoded). */
export type WireRun = Static<typeof Run>;
/** A batch as JSON carries it (steps may be absent). */
export type WireBatch = Static<typeof LogBatchInput>;

/**
 * Encodes a metric value for JSON: finite numbers stay numbers, the others become strings.
 * Anything but a number (a caller without types) is `INVALID_ARGUMENT` naming `what`, as the
 * store says it, rather than a value the server would store as something else.
 *
 * @example encodeMetricValue(NaN) // 'NaN'
 * @example encodeMetricValue(-Infinity) // '-Infinity'
 */
export function encodeMetricValue(value: number, what = 'a metric value'): WireMetricValue {
  if (typeof value !== 'number') {
    throw new TrestleError('INVALID_ARGUMENT', `${what} must be a number, got ${JSON.stringify(value)}`);
  }
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Decodes a metric value received as JSON. Anything but a number or the three strings is
 * `INVALID_ARGUMENT` (a param or tag whose value is the text `NaN` is never decoded: only
 * metric values go through here).
 *
 * @example decodeMetricValue('Infinity') // Infinity
 */
export function decodeMetricValue(value: WireMetricValue): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `a metric value must be a number or one of "NaN", "Infinity", "-Infinity"; got ${JSON.stringify(value)}`,
  );
}

/** A metric point ready for JSON. */
export function toWireMetric(metric: CoreMetric): WireMetric {
  const value = encodeMetricValue(metric.value, `value of metric '${metric.key}'`);
  return { key: metric.key, value, timestamp: metric.timestamp, step: metric.step };
}

/** A metric point received as JSON. */
export function fromWireMetric(metric: WireMetric): CoreMetric {
  return { key: metric.key, value: decodeMetricValue(metric.value), timestamp: metric.timestamp, step: metric.step };
}

/** A run ready for JSON (its latest metric values encoded). */
export function toWireRun(run: CoreRun): WireRun {
  return { ...run, data: { ...run.data, metrics: run.data.metrics.map(toWireMetric) } };
}

/** A run received as JSON. */
export function fromWireRun(run: WireRun): CoreRun {
  return { ...run, data: { ...run.data, metrics: run.data.metrics.map(fromWireMetric) } };
}

/** A batch ready for JSON (metric values encoded). */
export function toWireBatch(batch: CoreLogBatchInput): WireBatch {
  const { metrics, ...rest } = batch;
  return metrics === undefined ? rest : { ...rest, metrics: metrics.map(toWireMetric) };
}

/** A batch received as JSON, with metric values decoded and absent steps set to 0. */
export function fromWireBatch(batch: WireBatch): CoreLogBatchInput {
  const { metrics, ...rest } = batch;
  if (metrics === undefined) return rest;
  return {
    ...rest,
    metrics: metrics.map((m) => ({
      key: m.key,
      value: decodeMetricValue(m.value),
      timestamp: m.timestamp,
      step: m.step ?? 0,
    })),
  };
}

/**
 * JSON text of a request or answer body: non-finite numbers (only metric values can be) become
 * the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, where `JSON.stringify` would write `null`.
 *
 * @example encodeJson({ value: NaN }) // '{"value":"NaN"}'
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
