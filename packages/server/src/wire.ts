import type { LogBatchInput, Metric, Run } from '@trestle/core';
import type { Static } from 'typebox';
import type {
  LogBatchInput as LogBatchSchema,
  Metric as MetricSchema,
  MetricValue as MetricValueSchema,
  Run as RunSchema,
} from './schemas.js';

/** A metric value as JSON carries it: a number, or a string for NaN and ±Infinity. */
export type WireMetricValue = Static<typeof MetricValueSchema>;

/**
 * Encodes a metric value for JSON: finite numbers stay numbers, the others become strings.
 *
 * @example encodeMetricValue(NaN) // 'NaN'
 * @example encodeMetricValue(-Infinity) // '-Infinity'
 */
export function encodeMetricValue(value: number): WireMetricValue {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Decodes a metric value received as JSON.
 *
 * @example decodeMetricValue('Infinity') // Infinity
 */
export function decodeMetricValue(value: WireMetricValue): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  return value === 'Infinity' ? Infinity : -Infinity;
}

/** A metric point ready for JSON. */
export function toWireMetric(metric: Metric): Static<typeof MetricSchema> {
  return { key: metric.key, value: encodeMetricValue(metric.value), timestamp: metric.timestamp, step: metric.step };
}

/** A run ready for JSON (its latest metric values encoded). */
export function toWireRun(run: Run): Static<typeof RunSchema> {
  return { ...run, data: { ...run.data, metrics: run.data.metrics.map(toWireMetric) } };
}

/** A batch received as JSON, with metric values decoded and absent steps set to 0. */
export function fromWireBatch(batch: Static<typeof LogBatchSchema>): LogBatchInput {
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
