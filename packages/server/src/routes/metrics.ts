import {
  DEFAULT_POINTS,
  DownsampledHistory,
  DownsampledHistoryQuery,
  errorResponses,
  MetricHistoryQuery,
  MetricPage,
  RunKeyParams as RunAndKey,
  toWireMetric,
} from '@trestle/core/rest';
import type { RoutePlugin } from '../route-types.js';
import { JSON_CONTENT_TYPE, metricHistoryJson } from '../history-json.js';

const tags = ['metrics'];

/**
 * Metric histories of a run: the full history, paged, and a downsampled one for charts
 * (first, min, max and last point per step bucket, so spikes survive). Registered under `/api/v1`.
 */
export const metricRoutes: RoutePlugin = (app, { stores }, done) => {
  const store = stores.metadata;

  app.get(
    '/runs/:runId/metrics/:key/history',
    {
      schema: {
        tags,
        summary: 'Full history of one metric, by step then timestamp',
        params: RunAndKey,
        querystring: MetricHistoryQuery,
        response: { 200: MetricPage, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { runId, key } = request.params;
      if (request.query.maxResults === undefined && request.query.pageToken === undefined) {
        // The whole history in one page: sent as the store serialised it.
        const items = await metricHistoryJson(store, runId, key);
        // The text is the 200 schema's shape; the type provider only knows objects.
        return reply.type(JSON_CONTENT_TYPE).send(`{"items":${items}}` as never);
      }
      const page = await store.getMetricHistory(runId, key, request.query);
      return { ...page, items: page.items.map(toWireMetric) };
    },
  );

  app.get(
    '/runs/:runId/metrics/:key/downsampled',
    {
      schema: {
        tags,
        summary: 'A downsampled history for charts',
        params: RunAndKey,
        querystring: DownsampledHistoryQuery,
        response: { 200: DownsampledHistory, ...errorResponses },
      },
    },
    async (request) => {
      const { points = DEFAULT_POINTS, ...range } = request.query;
      const items = await store.getMetricHistoryDownsampled(request.params.runId, request.params.key, {
        points,
        ...range,
      });
      return { items: items.map(toWireMetric) };
    },
  );

  done();
};
