import { TrestleError, type Metric } from '@trestle/core';
import type { Command } from '../framework/command.js';
import { formatNumber, formatTime, table } from '../framework/output.js';
import { sparkline } from '../framework/sparkline.js';
import { parsePositiveInt, resolveRunId, withTrestle } from '../session.js';

const SPARK_POINTS = 400;

interface MetricRow {
  key: string;
  value: number;
  step: number;
  min: number;
  max: number;
  last: number;
  sparkline: string;
}

function summary(points: readonly Metric[]): { min: number; max: number; last: number } {
  const finite = points.map((p) => p.value).filter((v) => Number.isFinite(v));
  return {
    min: finite.length === 0 ? NaN : Math.min(...finite),
    max: finite.length === 0 ? NaN : Math.max(...finite),
    last: points.at(-1)?.value ?? NaN,
  };
}

/**
 * `trestle runs metrics RUN [KEY]`: without KEY, every metric of the run with its latest value
 * and a sparkline of its history (downsampled by the store, so a million-point metric costs a
 * few thousand); with KEY, that metric's history, its last `--tail` points as a table
 * (`--json`: every point).
 */
export const metrics: Command = {
  name: 'metrics',
  summary: 'Metric history of a run, with a sparkline',
  usage: 'RUN_ID [KEY]',
  options: {
    tail: { type: 'string', valueName: 'N', description: 'with KEY: the last N points as a table (default 20)' },
    width: { type: 'string', valueName: 'N', description: 'sparkline width in characters (default 40)' },
  },
  positionals: { min: 1, max: 2 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend }) => {
      const runId = await resolveRunId(backend, ctx.positionals[0]!);
      const width = parsePositiveInt(ctx.values['width'], 'width', 40);
      const key = ctx.positionals[1];
      if (key === undefined) {
        const run = await backend.getRun(runId);
        const rows: MetricRow[] = [];
        for (const m of [...run.data.metrics].sort((a, b) => a.key.localeCompare(b.key))) {
          const points = await backend.getMetricHistoryDownsampled(runId, m.key, { points: SPARK_POINTS });
          rows.push({
            key: m.key,
            value: m.value,
            step: m.step,
            ...summary(points),
            sparkline: sparkline(
              points.map((p) => p.value),
              width,
            ),
          });
        }
        ctx.out.result({ runId, metrics: rows }, () =>
          rows.length === 0
            ? `Run ${runId} has no metrics.`
            : table(
                ['key', 'latest', 'step', 'min', 'max', 'history'],
                rows.map((r) => [
                  r.key,
                  formatNumber(r.value),
                  r.step,
                  formatNumber(r.min),
                  formatNumber(r.max),
                  r.sparkline,
                ]),
              ),
        );
        return;
      }
      const tail = parsePositiveInt(ctx.values['tail'], 'tail', 20);
      const history = (await backend.getMetricHistory(runId, key)).items;
      if (history.length === 0) {
        const known = (await backend.getRun(runId)).data.metrics.map((m) => m.key).sort();
        throw new TrestleError(
          'NOT_FOUND',
          `run ${runId} has no metric '${key}'${known.length === 0 ? '' : ` (its metrics: ${known.join(', ')})`}`,
        );
      }
      if (ctx.out.json) {
        ctx.out.result({ runId, key, points: history }, () => '');
        return;
      }
      const spark = await backend.getMetricHistoryDownsampled(runId, key, { points: SPARK_POINTS });
      const s = summary(history);
      ctx.out.result({ runId, key, points: history }, () =>
        [
          `${key} of run ${runId}: ${history.length.toLocaleString('en-US')} points, min ${formatNumber(s.min)}, max ${formatNumber(s.max)}, last ${formatNumber(s.last)}`,
          `  ${sparkline(
            spark.map((p) => p.value),
            width,
          )}`,
          '',
          ...(history.length > tail ? [`Last ${tail} points (--tail N for more, --json for all):`] : []),
          table(
            ['step', 'value', 'time'],
            history.slice(-tail).map((p) => [p.step, formatNumber(p.value), formatTime(p.timestamp)]),
          ),
        ].join('\n'),
      );
    }),
};
