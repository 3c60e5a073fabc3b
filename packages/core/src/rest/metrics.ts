/** Schemas of the metric history routes (`/api/v1/runs/:runId/metrics/:key/…`). */
import { Type } from 'typebox';
import { MAX_PAGE_SIZE, closed } from './common.js';
import { Metric } from './runs.js';

/** Points a downsampled history returns when the caller does not say. */
export const DEFAULT_POINTS = 1000;
/** Most points a downsampled history may ask for. */
export const MAX_POINTS = 10_000;

/** Query of `GET …/metrics/:key/history`. */
export const MetricHistoryQuery = Type.Object(
  {
    maxResults: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: 'page size; default the whole history' }),
    ),
    pageToken: Type.Optional(Type.String()),
  },
  closed,
);

/** Query of `GET …/metrics/:key/downsampled`. */
export const DownsampledHistoryQuery = Type.Object(
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
  closed,
);

/** Answer of `GET …/metrics/:key/downsampled`. */
export const DownsampledHistory = Type.Object({ items: Type.Array(Metric) }, closed);
