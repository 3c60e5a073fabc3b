/**
 * MLflow 3 logged models in the metadata database (migration `0005-logged-models`).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, RawBuilder, Selectable, SqlBool } from 'kysely';
import {
  LOGGED_MODEL_STATUSES,
  TrestleError,
  decodePageToken,
  encodePageToken,
  newRunName,
  parseExperimentId,
  parseFilter,
  validateMetric,
  validateParam,
  validateTag,
} from '@trestle/core';
import type {
  CreateLoggedModelInput,
  FilterExpr,
  LoggedModel,
  LoggedModelMetric,
  LoggedModelStatus,
  LoggedModelStore,
  Page,
  Param,
  SearchLoggedModelsOptions,
  Tag,
} from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import { compareSql, compileFilterTree } from './filter-sql.js';
import type { LoggedModelsTable, MetadataDatabase } from './schema.js';

type Db = Kysely<MetadataDatabase>;
type Row = Selectable<LoggedModelsTable>;

/** What {@link SqlLoggedModelStore} is built from (by `SqlMetadataStore`). */
export interface SqlLoggedModelStoreOptions {
  db: () => Db;
  write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  dialect: SqlDialect;
  now?: () => number;
}

const MODEL_ID = /^m-[0-9a-f]{32}$/;

function notFound(modelId: string): TrestleError {
  return new TrestleError('NOT_FOUND', `Logged model with ID '${modelId}' not found.`, { modelId });
}

const ATTRIBUTE_COLUMNS: Readonly<Record<string, string>> = {
  name: 'lm.name',
  model_id: 'lm.model_id',
  model_type: 'lm.model_type',
  status: 'lm.status',
  source_run_id: 'lm.source_run_id',
  creation_timestamp: 'lm.creation_time',
  last_updated_timestamp: 'lm.last_updated_time',
};

/** Accepts MLflow's names (`LOGGED_MODEL_READY`, `LOGGED_MODEL_UPLOAD_FAILED`) and ours. */
function parseLoggedModelStatus(status: unknown): LoggedModelStatus {
  const text = typeof status === 'string' ? status.replace(/^LOGGED_MODEL_/, '') : '';
  const mapped = text === 'UPLOAD_FAILED' ? 'FAILED' : text;
  if (!(LOGGED_MODEL_STATUSES as readonly string[]).includes(mapped)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `logged model status must be PENDING, READY or FAILED (MLflow: LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED), got ${JSON.stringify(status)}`,
    );
  }
  return mapped as LoggedModelStatus;
}

/**
 * A {@link LoggedModelStore} over the metadata database. Built by `SqlMetadataStore` as its
 * `loggedModels`.
 */
export class SqlLoggedModelStore implements LoggedModelStore {
  readonly #db: () => Db;
  readonly #write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  readonly #dialect: SqlDialect;
  readonly #now: () => number;

  constructor(options: SqlLoggedModelStoreOptions) {
    this.#db = options.db;
    this.#write = options.write;
    this.#dialect = options.dialect;
    this.#now = options.now ?? Date.now;
  }

  async #row(db: Db, modelId: string): Promise<Row> {
    if (typeof modelId !== 'string' || !MODEL_ID.test(modelId)) throw notFound(String(modelId));
    const row = await db
      .selectFrom('logged_models')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('lifecycle_stage', '=', 'active')
      .executeTakeFirst();
    if (row === undefined) throw notFound(modelId);
    return row;
  }

  async #hydrate(db: Db, rows: readonly Row[]): Promise<LoggedModel[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.model_id);
    const [tags, params, metrics, versions] = await Promise.all([
      db.selectFrom('logged_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('logged_model_params').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      db
        .selectFrom('logged_model_metrics')
        .selectAll()
        .where('model_id', 'in', ids)
        .orderBy('key')
        .orderBy('step')
        .orderBy('timestamp')
        .execute(),
      db
        .selectFrom('model_versions as v')
        .innerJoin('registered_models as m', 'm.model_id', 'v.model_id')
        .select(['v.logged_model_id', 'm.name', 'v.version'])
        .where('v.logged_model_id', 'in', ids)
        .orderBy('m.name')
        .orderBy('v.version')
        .execute(),
    ]);
    return rows.map((r) => ({
      modelId: r.model_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      creationTime: Number(r.creation_time),
      lastUpdatedTime: Number(r.last_updated_time),
      status: r.status as LoggedModelStatus,
      ...(r.status_message === null ? {} : { statusMessage: r.status_message }),
      ...(r.model_type === null ? {} : { modelType: r.model_type }),
      ...(r.source_run_id === null ? {} : { sourceRunId: r.source_run_id }),
      creator: r.creator,
      tags: tags.filter((t) => t.model_id === r.model_id).map((t) => ({ key: t.key, value: t.value })),
      params: params.filter((p) => p.model_id === r.model_id).map((p) => ({ key: p.key, value: p.value })),
      metrics: metrics
        .filter((m) => m.model_id === r.model_id)
        .map((m) => ({
          key: m.key,
          value: m.is_nan === 1 ? NaN : Number(m.value),
          timestamp: Number(m.timestamp),
          step: Number(m.step),
          ...(m.run_id === '' ? {} : { runId: m.run_id }),
          ...(m.dataset_name === '' ? {} : { datasetName: m.dataset_name }),
          ...(m.dataset_digest === '' ? {} : { datasetDigest: m.dataset_digest }),
        })),
      registrations: versions
        .filter((v) => v.logged_model_id === r.model_id)
        .map((v) => ({ name: v.name, version: Number(v.version) })),
    }));
  }

  async createLoggedModel(input: CreateLoggedModelInput): Promise<LoggedModel> {
    const experimentId = parseExperimentId(input.experimentId);
    const name = input.name === undefined || input.name === '' ? newRunName() : input.name;
    if (typeof name !== 'string' || name.length > 500) {
      throw new TrestleError('INVALID_ARGUMENT', 'logged model name must be a string of at most 500 characters');
    }
    const params = new Map((input.params ?? []).map((p) => [validateParam(p).key, p.value]));
    const tags = new Map((input.tags ?? []).map((t) => [validateTag(t).key, t.value]));
    const modelId = `m-${randomUUID().replaceAll('-', '')}`;
    return this.#write(async (db) => {
      const exp = await db
        .selectFrom('experiments')
        .select(['lifecycle_stage'])
        .where('experiment_id', '=', experimentId)
        .executeTakeFirst();
      if (exp === undefined) {
        throw new TrestleError('NOT_FOUND', `Could not find experiment with ID ${experimentId}`, {
          experimentId: String(experimentId),
        });
      }
      if (exp.lifecycle_stage !== 'active') {
        throw new TrestleError('FAILED_PRECONDITION', `experiment ${experimentId} is deleted; restore it first`);
      }
      if (input.sourceRunId !== undefined && input.sourceRunId !== '') {
        const run = await db
          .selectFrom('runs')
          .select('run_id')
          .where('run_id', '=', input.sourceRunId)
          .executeTakeFirst();
        if (run === undefined) throw new TrestleError('NOT_FOUND', `Run '${input.sourceRunId}' not found`);
      }
      const now = this.#now();
      await db
        .insertInto('logged_models')
        .values({
          model_id: modelId,
          experiment_id: experimentId,
          name,
          creation_time: now,
          last_updated_time: now,
          status: 'PENDING',
          status_message: null,
          model_type: input.modelType === undefined || input.modelType === '' ? null : input.modelType,
          source_run_id: input.sourceRunId === undefined || input.sourceRunId === '' ? null : input.sourceRunId,
          creator: input.creator ?? '',
          lifecycle_stage: 'active',
        })
        .execute();
      if (params.size > 0) {
        await db
          .insertInto('logged_model_params')
          .values([...params].map(([key, value]) => ({ model_id: modelId, key, value })))
          .execute();
      }
      if (tags.size > 0) {
        await db
          .insertInto('logged_model_tags')
          .values([...tags].map(([key, value]) => ({ model_id: modelId, key, value })))
          .execute();
      }
      const [model] = await this.#hydrate(db, [await this.#row(db, modelId)]);
      return model!;
    });
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const db = this.#db();
    const [model] = await this.#hydrate(db, [await this.#row(db, modelId)]);
    return model!;
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    await this.#write(async (db) => {
      await this.#row(db, modelId);
      await db
        .updateTable('logged_models')
        .set({ lifecycle_stage: 'deleted', last_updated_time: this.#now() })
        .where('model_id', '=', modelId)
        .execute();
    });
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus, statusMessage?: string): Promise<LoggedModel> {
    const s = parseLoggedModelStatus(status);
    return this.#write(async (db) => {
      await this.#row(db, modelId);
      await db
        .updateTable('logged_models')
        .set({ status: s, status_message: statusMessage ?? null, last_updated_time: this.#now() })
        .where('model_id', '=', modelId)
        .execute();
      const [model] = await this.#hydrate(db, [await this.#row(db, modelId)]);
      return model!;
    });
  }

  async setLoggedModelTags(modelId: string, tags: Tag[]): Promise<void> {
    const checked = tags.map((t) => validateTag(t));
    await this.#write(async (db) => {
      await this.#row(db, modelId);
      for (const t of checked) {
        await db
          .insertInto('logged_model_tags')
          .values({ model_id: modelId, key: t.key, value: t.value })
          .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: t.value }))
          .execute();
      }
      await this.#touch(db, modelId);
    });
  }

  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    await this.#write(async (db) => {
      await this.#row(db, modelId);
      const res = await db
        .deleteFrom('logged_model_tags')
        .where('model_id', '=', modelId)
        .where('key', '=', key)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) {
        throw new TrestleError('NOT_FOUND', `No tag with key '${key}' found for logged model '${modelId}'.`);
      }
      await this.#touch(db, modelId);
    });
  }

  async logLoggedModelParams(modelId: string, params: Param[]): Promise<void> {
    const checked = params.map(validateParam);
    await this.#write(async (db) => {
      await this.#row(db, modelId);
      for (const p of checked) {
        const existing = await db
          .selectFrom('logged_model_params')
          .select('value')
          .where('model_id', '=', modelId)
          .where('key', '=', p.key)
          .executeTakeFirst();
        if (existing === undefined) {
          await db
            .insertInto('logged_model_params')
            .values({ model_id: modelId, key: p.key, value: p.value })
            .execute();
        } else if (existing.value !== p.value) {
          throw new TrestleError(
            'CONFLICT',
            `param '${p.key}' of logged model '${modelId}' is '${existing.value}'; params are immutable (got '${p.value}')`,
          );
        }
      }
      await this.#touch(db, modelId);
    });
  }

  async logLoggedModelMetrics(modelId: string, metrics: LoggedModelMetric[]): Promise<void> {
    const checked = metrics.map((m) => ({ ...m, ...validateMetric(m) }));
    if (checked.length === 0) return;
    await this.#write(async (db) => {
      await this.#row(db, modelId);
      for (const m of checked) {
        await db
          .insertInto('logged_model_metrics')
          .values({
            model_id: modelId,
            key: m.key,
            step: m.step,
            timestamp: m.timestamp,
            value: Number.isNaN(m.value) ? 0 : m.value,
            is_nan: Number.isNaN(m.value) ? 1 : 0,
            run_id: m.runId ?? '',
            dataset_name: m.datasetName ?? '',
            dataset_digest: m.datasetDigest ?? '',
          })
          .onConflict((oc) =>
            oc
              .columns(['model_id', 'key', 'step', 'timestamp', 'run_id', 'dataset_name', 'dataset_digest'])
              .doUpdateSet({ value: Number.isNaN(m.value) ? 0 : m.value, is_nan: Number.isNaN(m.value) ? 1 : 0 }),
          )
          .execute();
      }
      await this.#touch(db, modelId);
    });
  }

  async #touch(db: Db, modelId: string): Promise<void> {
    await db
      .updateTable('logged_models')
      .set({ last_updated_time: this.#now() })
      .where('model_id', '=', modelId)
      .execute();
  }

  async searchLoggedModels(options: SearchLoggedModelsOptions): Promise<Page<LoggedModel>> {
    const db = this.#db();
    const experimentIds = (options.experimentIds ?? []).map((id) => parseExperimentId(id, 'INVALID_ARGUMENT'));
    const limit = options.maxResults ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 50_000) {
      throw new TrestleError('INVALID_ARGUMENT', `max_results must be between 1 and 50000, got ${limit}`);
    }
    const { offset } = decodePageToken(options.pageToken);
    const datasets = options.datasets ?? [];
    const where = this.#compile(parseFilter(options.filter, 'logged_models'), datasets);
    const order = (options.orderBy ?? []).map((o) => this.#orderItem(o));
    order.push(sql`lm.creation_time DESC`, sql`lm.model_id ASC`);
    const scope =
      experimentIds.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`lm.experiment_id IN (${sql.join(experimentIds)})`;
    const { rows } = await sql<Row>`
      SELECT lm.* FROM logged_models lm
      WHERE lm.lifecycle_stage = 'active' AND ${scope} AND ${where}
      ORDER BY ${sql.join(order)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(db);
    const items = await this.#hydrate(db, rows.slice(0, limit));
    return rows.length > limit ? { items, nextPageToken: encodePageToken({ offset: offset + limit }) } : { items };
  }

  #datasetScope(datasets: readonly { datasetName: string; datasetDigest?: string }[]): RawBuilder<SqlBool> {
    if (datasets.length === 0) return sql<SqlBool>`1 = 1`;
    const parts = datasets.map((d) =>
      d.datasetDigest === undefined
        ? sql<SqlBool>`mm.dataset_name = ${d.datasetName}`
        : sql<SqlBool>`(mm.dataset_name = ${d.datasetName} AND mm.dataset_digest = ${d.datasetDigest})`,
    );
    return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
  }

  #compile(
    expr: FilterExpr | undefined,
    datasets: readonly { datasetName: string; datasetDigest?: string }[],
  ): RawBuilder<SqlBool> {
    return compileFilterTree(expr, (c) => {
      switch (c.entity) {
        case 'metric':
          return sql<SqlBool>`EXISTS (SELECT 1 FROM logged_model_metrics mm WHERE mm.model_id = lm.model_id AND mm.key = ${c.key} AND mm.is_nan = 0 AND ${this.#datasetScope(datasets)} AND ${compareSql(sql.ref('mm.value'), c, this.#dialect)})`;
        case 'param':
          return sql<SqlBool>`EXISTS (SELECT 1 FROM logged_model_params p WHERE p.model_id = lm.model_id AND p.key = ${c.key} AND ${compareSql(sql.ref('p.value'), c, this.#dialect)})`;
        case 'tag':
          return sql<SqlBool>`EXISTS (SELECT 1 FROM logged_model_tags t WHERE t.model_id = lm.model_id AND t.key = ${c.key} AND ${compareSql(sql.ref('t.value'), c, this.#dialect)})`;
        default: {
          const column = ATTRIBUTE_COLUMNS[c.key];
          if (column === undefined)
            throw new TrestleError('INVALID_ARGUMENT', `cannot filter logged models on '${c.key}'`);
          if (c.key === 'status' && typeof c.value === 'string') {
            return compareSql(sql.ref(column), { ...c, value: parseLoggedModelStatus(c.value) }, this.#dialect);
          }
          return compareSql(sql.ref(column), c, this.#dialect);
        }
      }
    });
  }

  #orderItem(o: {
    field: string;
    ascending: boolean;
    datasetName?: string;
    datasetDigest?: string;
  }): RawBuilder<unknown> {
    const direction = sql.raw(o.ascending ? 'ASC' : 'DESC');
    const metric = /^metrics\.(.+)$/.exec(o.field);
    if (metric !== null) {
      const key = metric[1]!.replace(/^[`"](.*)[`"]$/, '$1');
      const scope = this.#datasetScope(
        o.datasetName === undefined
          ? []
          : [
              {
                datasetName: o.datasetName,
                ...(o.datasetDigest === undefined ? {} : { datasetDigest: o.datasetDigest }),
              },
            ],
      );
      const latest = sql`(SELECT mm.value FROM logged_model_metrics mm WHERE mm.model_id = lm.model_id AND mm.key = ${key} AND mm.is_nan = 0 AND ${scope} ORDER BY mm.step DESC, mm.timestamp DESC LIMIT 1)`;
      // Models without the metric sort last either way.
      return sql`CASE WHEN ${latest} IS NULL THEN 1 ELSE 0 END, ${latest} ${direction}`;
    }
    const field = o.field.replace(/^attributes?\./, '');
    const aliases: Record<string, string> = {
      creation_time: 'creation_timestamp',
      creation_timestamp_ms: 'creation_timestamp',
      last_updated_timestamp_ms: 'last_updated_timestamp',
    };
    const column = ATTRIBUTE_COLUMNS[aliases[field] ?? field];
    if (column === undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `cannot order logged models by '${o.field}'; use name, creation_timestamp, last_updated_timestamp or metrics.<key>`,
      );
    }
    return sql`${sql.ref(column)} ${direction}`;
  }

  async logRunModels(
    runId: string,
    direction: 'input' | 'output',
    models: { modelId: string; step?: number }[],
  ): Promise<void> {
    await this.#write(async (db) => {
      const run = await db.selectFrom('runs').select('run_id').where('run_id', '=', runId).executeTakeFirst();
      if (run === undefined) throw new TrestleError('NOT_FOUND', `Run '${runId}' not found`, { runId });
      for (const m of models) {
        await this.#row(db, m.modelId);
        await db
          .insertInto('run_model_io')
          .values({ run_id: runId, model_id: m.modelId, direction, step: m.step ?? 0 })
          .onConflict((oc) => oc.columns(['run_id', 'model_id', 'direction']).doUpdateSet({ step: m.step ?? 0 }))
          .execute();
      }
    });
  }

  async getRunModels(
    runId: string,
  ): Promise<{ inputs: { modelId: string }[]; outputs: { modelId: string; step: number }[] }> {
    const rows = await this.#db()
      .selectFrom('run_model_io')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('model_id')
      .execute();
    return {
      inputs: rows.filter((r) => r.direction === 'input').map((r) => ({ modelId: r.model_id })),
      outputs: rows.filter((r) => r.direction === 'output').map((r) => ({ modelId: r.model_id, step: Number(r.step) })),
    };
  }
}
