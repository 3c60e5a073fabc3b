import type { RunStore } from '@trestle/core';
import { toWireMetric } from '@trestle/core/rest';

/**
 * The whole history of one metric as the text of a JSON array of `{key, value, timestamp,
 * step}` (NaN and ±Infinity as strings), the points of both HTTP APIs: built by the store when
 * it can ({@link RunStore.getMetricHistoryJson}), which spares a large history an object and a
 * serialisation per point; otherwise from {@link RunStore.getMetricHistory}. The one place the
 * server checks for that capability.
 *
 * @example
 * const json = await metricHistoryJson(store, runId, 'loss'); // '[{"key":"loss","value":0.5,…}]'
 */
export function metricHistoryJson(store: RunStore, runId: string, key: string): Promise<string> {
  if (store.getMetricHistoryJson !== undefined) return store.getMetricHistoryJson(runId, key);
  return store.getMetricHistory(runId, key).then((page) => JSON.stringify(page.items.map(toWireMetric)));
}

/** Content type Fastify gives the JSON it serialises itself, for answers sent as ready text. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
