import { Type } from 'typebox';
import type { RoutePlugin } from '../route-types.js';
import { errorResponses, Metric, Page } from '../schemas.js';
import { JSON_CONTENT_TYPE, metricHistoryJson } from '../history-json.js';
import { toWireMetric } from '../wire.js';

/** Points a downsampled history returns when the caller does not say. */
export const DEFAULT_POINTS = 1000;
/** Most points a downsampled history may ask for. */
export const MAX_POINTS = 10_000;

const tags = ['metrics'];
const RunAndKey = Type.Object({ runId: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) });

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
        querystring: Type.Object(
          {
            maxResults: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 50_000, description: 'page size; default the whole history' }),
            ),
            pageToken: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Metric), ...errorResponses },
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
        querystring: Type.Object(
          {
            points: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: MAX_POINTS,
                description: `about how many points; default ${DEFAULT_POINTS}`,
              }),
            ),
            startStep: Type.Optional(Type.Integer({ description: 'first step, inclusive' })),
            endStep: Type.Optional(Type.Integer({ description: 'last step, inclusive' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Metric) }, { additionalProperties: false }),
          ...errorResponses,
        },
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
