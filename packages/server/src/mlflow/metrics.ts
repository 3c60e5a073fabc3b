import { TrestleError } from '@trestle/core';
import { missingParameter } from './errors.js';
import { readMaxResults } from './request-message.js';
import { metricHistoryJson } from '../history-json.js';
import { JsonText, type MlflowRoute } from './routes.js';
import { toMlflowMetric, type MlflowMetric } from './translate.js';

/** At most this many runs per `get-history-bulk-interval` call (MLflow's `MAX_RUNS_GET_METRIC_HISTORY_BULK`). */
const MAX_BULK_RUNS = 100;
/** Largest answer of `metrics/get-history-bulk` (MLflow's `MAX_HISTORY_RESULTS`). */
const MAX_BULK_HISTORY = 25_000;
/** Default and largest `max_results` per run of `get-history-bulk-interval` (MLflow's `MAX_RESULTS_PER_RUN`). */
const MAX_BULK_POINTS_PER_RUN = 2500;

/**
 * The steps `metrics/get-history-bulk-interval` returns, chosen as MLflow's server chooses them
 * (`_get_sampled_steps` in `mlflow/server/handlers.py`): over the sorted union of the steps of
 * all runs within the range, `max_results` evenly spaced ones plus the last, plus every run's
 * first and last step in the range. Every point at a chosen step is returned, for every run.
 *
 * @example sampleBulkSteps([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], 5) // Set {0, 2, 4, 6, 8, 9}
 */
export function sampleBulkSteps(
  stepsPerRun: readonly (readonly number[])[],
  maxResults: number,
  startStep?: number,
  endStep?: number,
): Set<number> {
  const all = [...new Set(stepsPerRun.flat())].sort((a, b) => a - b);
  const start = startStep ?? 0;
  const end = endStep ?? all.at(-1) ?? 0;
  const ends = new Set<number>();
  for (const steps of stepsPerRun) {
    if (steps.length === 0) continue;
    for (const s of [Math.min(...steps), Math.max(...steps)]) if (s >= start && s <= end) ends.add(s);
  }
  const startIdx = all.findIndex((s) => s >= start);
  const from = startIdx === -1 ? all.length : startIdx;
  let to = all.length;
  while (to > 0 && (all[to - 1] ?? 0) > end) to--;
  const chosen = new Set<number>(ends);
  if (to - from <= maxResults) {
    for (const s of all.slice(from, to)) chosen.add(s);
    return chosen;
  }
  const count = to - from;
  const interval = count / maxResults;
  for (let i = 0; i < maxResults; i++) {
    const idx = from + Math.floor(i * interval);
    // As MLflow compares: an absolute index against the count within the range.
    if (idx < count) chosen.add(all[idx] ?? 0);
  }
  chosen.add(all[to - 1] ?? 0);
  return chosen;
}

/**
 * MLflow's metric RPCs: `metrics/get-history` (the full history of one metric of one run, paged
 * only when `max_results` is given) and `metrics/get-history-bulk-interval` (a sampled history
 * of one metric over several runs, for charts, sampled exactly as MLflow samples it; Trestle's
 * own API keeps its bucketed downsampling).
 */
export const metricRoutes: readonly MlflowRoute[] = [
  {
    // The web UI's `metrics/get-history-bulk` (`get_metric_history_bulk_handler`): the whole
    // history of one metric for up to 100 runs (`run_id` repeated), runs in id order.
    methods: ['GET'],
    url: '/metrics/get-history-bulk',
    handle: async (msg, { metadata }) => {
      const runIds = msg.strings('run_id');
      if (runIds.length === 0) {
        throw new TrestleError('INVALID_ARGUMENT', 'GetMetricHistoryBulk request must specify at least one run_id.');
      }
      if (runIds.length > MAX_BULK_RUNS) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `GetMetricHistoryBulk request cannot specify more than ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`,
        );
      }
      const key = msg.string('metric_key');
      if (key === undefined) {
        throw new TrestleError('INVALID_ARGUMENT', 'GetMetricHistoryBulk request must specify a metric_key.');
      }
      const limit = Math.min(msg.int64('max_results') ?? MAX_BULK_HISTORY, MAX_BULK_HISTORY);
      const metrics: (MlflowMetric & { run_id: string })[] = [];
      for (const runId of [...runIds].sort()) {
        const points = (await metadata.getMetricHistory(runId, key)).items
          .slice(0, limit)
          .sort((a, b) => a.timestamp - b.timestamp || a.step - b.step || a.value - b.value);
        metrics.push(...points.map((m) => ({ ...toMlflowMetric(m), run_id: runId })));
      }
      return { metrics: metrics.slice(0, limit) };
    },
  },
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
        // MLflow's own wording for this endpoint.
        throw new TrestleError('INVALID_ARGUMENT', `max_results must be between 1 and ${MAX_BULK_POINTS_PER_RUN}.`, {
          parameter: 'max_results',
        });
      }
      const histories = await Promise.all(
        runIds.map(async (runId) => ({ runId, points: (await metadata.getMetricHistory(runId, key)).items })),
      );
      const steps = sampleBulkSteps(
        histories.map((h) => h.points.map((m) => m.step)),
        points,
        startStep,
        endStep,
      );
      const metrics: (MlflowMetric & { run_id: string })[] = [];
      for (const { runId, points: history } of histories) {
        for (const m of history) if (steps.has(m.step)) metrics.push({ ...toMlflowMetric(m), run_id: runId });
      }
      return metrics.length > 0 ? { metrics } : {};
    },
  },
];
