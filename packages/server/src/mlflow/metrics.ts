import { TrestleError } from '@trestle/core';
import { invalidParameter, missingParameter } from './errors.js';
import { readMaxResults } from './request-message.js';
import { metricHistoryJson } from '../history-json.js';
import { JsonText, type MlflowRoute } from './routes.js';
import { toMlflowMetric, type MlflowMetric } from './translate.js';

/** At most this many runs per `get-history-bulk-interval` call (MLflow's `MAX_RUNS_GET_METRIC_HISTORY_BULK`). */
export const MAX_BULK_RUNS = 100;
/** Default and largest `max_results` per run of `get-history-bulk-interval` (MLflow's `MAX_RESULTS_PER_RUN`). */
export const MAX_BULK_POINTS_PER_RUN = 2500;

/**
 * MLflow's metric RPCs: `metrics/get-history` (the full history of one metric of one run, paged
 * only when `max_results` is given) and `metrics/get-history-bulk-interval` (a sampled history
 * of one metric over several runs, for charts).
 */
export const metricRoutes: readonly MlflowRoute[] = [
  {
    methods: ['GET'],
    url: '/metrics/get-history',
    handle: async (msg, { metadata }) => {
      const runId = msg.runId();
      const key = msg.requiredString('metric_key');
      const maxResults = readMaxResults(msg, 'max_results', Number.MAX_SAFE_INTEGER);
      const pageToken = msg.string('page_token');
      if (maxResults === undefined && !pageToken) {
        // The whole history, unpaged: sent as the store serialised it.
        const json = await metricHistoryJson(metadata, runId, key);
        return new JsonText(json === '[]' ? '{}' : `{"metrics":${json}}`);
      }
      const page = await metadata.getMetricHistory(runId, key, {
        ...(maxResults === undefined ? {} : { maxResults }),
        ...(pageToken ? { pageToken } : {}),
      });
      return {
        ...(page.items.length > 0 ? { metrics: page.items.map(toMlflowMetric) } : {}),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  },
  {
    methods: ['GET'],
    url: '/metrics/get-history-bulk-interval',
    handle: async (msg, { metadata }) => {
      const runIds = msg.strings('run_ids');
      if (runIds.length === 0) {
        throw missingParameter('run_ids');
      }
      if (runIds.length > MAX_BULK_RUNS) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `GetMetricHistoryBulkInterval request must specify at most ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`,
        );
      }
      const key = msg.requiredString('metric_key');
      const startStep = msg.int64('start_step');
      const endStep = msg.int64('end_step');
      if ((startStep === undefined) !== (endStep === undefined)) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          'If either start step or end step are specified, both must be specified.',
        );
      }
      if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`,
        );
      }
      const points = msg.int64('max_results') ?? MAX_BULK_POINTS_PER_RUN;
      if (points < 1 || points > MAX_BULK_POINTS_PER_RUN) {
        throw invalidParameter('max_results', points, `an integer between 1 and ${MAX_BULK_POINTS_PER_RUN}`);
      }
      const metrics: (MlflowMetric & { run_id: string })[] = [];
      for (const runId of runIds) {
        const history = await metadata.getMetricHistoryDownsampled(runId, key, {
          points,
          ...(startStep === undefined ? {} : { startStep }),
          ...(endStep === undefined ? {} : { endStep }),
        });
        metrics.push(...history.map((m) => ({ ...toMlflowMetric(m), run_id: runId })));
      }
      return metrics.length > 0 ? { metrics } : {};
    },
  },
];
