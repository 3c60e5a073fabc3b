/**
 * Turns rows into domain objects. Runs of a page are completed with a fixed number of
 * `IN` queries (params, tags, latest metrics, inputs, input tags), never one query per run.
 */
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { DatasetInput, Experiment, LifecycleStage, Metric, Run, RunInfo, RunStatus, Tag } from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import type { ExperimentsTable, MetadataDatabase, MetricsTable, RunsTable } from './schema.js';

/** A row of `experiments`. */
export type ExperimentRow = Selectable<ExperimentsTable>;
/** A row of `runs`. */
export type RunRow = Selectable<RunsTable>;

/** A `runs` row as the domain's RunInfo (ids as strings, times as numbers). */
export function toRunInfo(row: RunRow): RunInfo {
  return {
    runId: row.run_id,
    runName: row.run_name,
    experimentId: String(row.experiment_id),
    userId: row.user_id,
    status: row.status as RunStatus,
    startTime: Number(row.start_time),
    endTime: row.end_time === null ? null : Number(row.end_time),
    artifactUri: row.artifact_uri,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
  };
}

/** A `metrics`/`latest_metrics` row as a Metric (`is_nan` → NaN). */
function toMetric(row: Pick<Selectable<MetricsTable>, 'key' | 'value' | 'is_nan' | 'timestamp' | 'step'>): Metric {
  return {
    key: row.key,
    value: Number(row.is_nan) === 1 ? NaN : Number(row.value),
    timestamp: Number(row.timestamp),
    step: Number(row.step),
  };
}

/** An `experiments` row and its tags as an Experiment. */
function toExperiment(row: ExperimentRow, tags: Tag[]): Experiment {
  return {
    experimentId: String(row.experiment_id),
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
    tags,
  };
}

function groupBy<T, V>(rows: readonly T[], keyOf: (row: T) => string, valueOf: (row: T) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const row of rows) {
    const k = keyOf(row);
    const list = out.get(k);
    if (list === undefined) out.set(k, [valueOf(row)]);
    else list.push(valueOf(row));
  }
  return out;
}

/** Experiments with their tags (one extra query). */
export async function hydrateExperiments(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  rows: readonly ExperimentRow[],
): Promise<Experiment[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.experiment_id));
  const tags = await db
    .selectFrom('experiment_tags')
    .select(['experiment_id', 'key', 'value'])
    .where(dialect.inList(sql.ref('experiment_id'), ids, 'bigint'))
    .orderBy('experiment_id')
    .orderBy('key')
    .execute();
  const byExperiment = groupBy(
    tags,
    (t) => String(t.experiment_id),
    (t) => ({ key: t.key, value: t.value }),
  );
  return rows.map((r) => toExperiment(r, byExperiment.get(String(r.experiment_id)) ?? []));
}

/** Runs with params, tags, latest metrics and dataset inputs, in the order of `rows`. */
export async function hydrateRuns(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  rows: readonly RunRow[],
): Promise<Run[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.run_id);
  const inIds = (column: string) => dialect.inList(sql.ref(column), ids, 'text');
  const [params, tags, metrics, inputs, inputTags] = await Promise.all([
    db
      .selectFrom('params')
      .select(['run_id', 'key', 'value'])
      .where(inIds('run_id'))
      .orderBy('run_id')
      .orderBy('key')
      .execute(),
    db
      .selectFrom('tags')
      .select(['run_id', 'key', 'value'])
      .where(inIds('run_id'))
      .orderBy('run_id')
      .orderBy('key')
      .execute(),
    db
      .selectFrom('latest_metrics')
      .select(['run_id', 'key', 'value', 'is_nan', 'timestamp', 'step'])
      .where(inIds('run_id'))
      .orderBy('run_id')
      .orderBy('key')
      .execute(),
    db
      .selectFrom('inputs as i')
      .innerJoin('datasets as d', 'd.dataset_id', 'i.dataset_id')
      .select(['i.input_id', 'i.run_id', 'd.name', 'd.digest', 'd.source_type', 'd.source', 'd.schema', 'd.profile'])
      .where(inIds('i.run_id'))
      .orderBy('i.run_id')
      .orderBy('d.name')
      .orderBy('d.digest')
      .execute(),
    db
      .selectFrom('input_tags as it')
      .innerJoin('inputs as i', 'i.input_id', 'it.input_id')
      .select(['it.input_id', 'it.key', 'it.value'])
      .where(inIds('i.run_id'))
      .orderBy('it.input_id')
      .orderBy('it.key')
      .execute(),
  ]);
  const paramsByRun = groupBy(
    params,
    (p) => p.run_id,
    (p) => ({ key: p.key, value: p.value }),
  );
  const tagsByRun = groupBy(
    tags,
    (t) => t.run_id,
    (t) => ({ key: t.key, value: t.value }),
  );
  const metricsByRun = groupBy(metrics, (m) => m.run_id, toMetric);
  const tagsByInput = groupBy(
    inputTags,
    (t) => t.input_id,
    (t) => ({ key: t.key, value: t.value }),
  );
  const inputsByRun = groupBy(
    inputs,
    (i) => i.run_id,
    (i): DatasetInput => ({
      dataset: {
        name: i.name,
        digest: i.digest,
        sourceType: i.source_type,
        source: i.source,
        ...(i.schema === null ? {} : { schema: i.schema }),
        ...(i.profile === null ? {} : { profile: i.profile }),
      },
      tags: tagsByInput.get(i.input_id) ?? [],
    }),
  );
  return rows.map((r) => ({
    info: toRunInfo(r),
    data: {
      metrics: metricsByRun.get(r.run_id) ?? [],
      params: paramsByRun.get(r.run_id) ?? [],
      tags: tagsByRun.get(r.run_id) ?? [],
    },
    inputs: { datasetInputs: inputsByRun.get(r.run_id) ?? [] },
  }));
}
