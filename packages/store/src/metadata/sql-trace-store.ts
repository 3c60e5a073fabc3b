/**
 * MLflow Tracing's trace records in the metadata database (migration `0008-traces`).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, RawBuilder, Selectable, SqlBool } from 'kysely';
import {
  TRACE_NAME_TAG,
  TRACE_STATES,
  TrestleError,
  decodePageToken,
  encodePageToken,
  parseExperimentId,
  parseFilter,
  parseOrderBy,
  validateTag,
} from '@trestle/core';
import type {
  DeleteTracesOptions,
  EndTraceInput,
  FilterExpr,
  Page,
  SearchTracesOptions,
  StartTraceInput,
  TraceInfo,
  TraceState,
  TraceStore,
} from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import { compareSql, compileFilterTree } from './filter-sql.js';
import type { MetadataDatabase, TraceInfoTable } from './schema.js';

type Db = Kysely<MetadataDatabase>;
type Row = Selectable<TraceInfoTable>;

/** What {@link SqlTraceStore} is built from (by `SqlMetadataStore`). */
export interface SqlTraceStoreOptions {
  db: () => Db;
  write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  dialect: SqlDialect;
  now?: () => number;
}

/** MLflow 3 ids (`tr-<hex>`) and MLflow 2 request ids (32 hex); other callers' ids up to 128 safe characters. */
const TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** Largest page of a trace search (MLflow's threshold). */
const MAX_TRACE_RESULTS = 500;

const COLUMNS: Readonly<Record<string, string>> = {
  trace_id: 'ti.trace_id',
  timestamp_ms: 'ti.request_time',
  execution_time_ms: 'ti.execution_duration',
  status: 'ti.state',
  client_request_id: 'ti.client_request_id',
};

function notFound(traceId: string): TrestleError {
  return new TrestleError('NOT_FOUND', `Trace with ID ${traceId} is not found.`, { traceId });
}

/**
 * A trace state from MLflow 2 (`TraceStatus`) or 3 (`TraceInfoV3.State`) names or numbers.
 *
 * @example parseTraceState('OK') // 'OK'
 * @example parseTraceState('TRACE_STATUS_UNSPECIFIED') // 'STATE_UNSPECIFIED'
 */
function parseTraceState(value: unknown): TraceState {
  const names: readonly string[] = TRACE_STATES;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < names.length) {
    return TRACE_STATES[value] as TraceState;
  }
  const text = typeof value === 'string' ? value.toUpperCase() : '';
  const name = text === 'TRACE_STATUS_UNSPECIFIED' ? 'STATE_UNSPECIFIED' : text;
  if (names.includes(name)) return name as TraceState;
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `trace state must be one of OK, ERROR, IN_PROGRESS or STATE_UNSPECIFIED, got ${JSON.stringify(value)}`,
    { state: value },
  );
}

function checkedMap(map: Record<string, string> | undefined, kind: 'tag' | 'metadata'): [string, string][] {
  return Object.entries(map ?? {}).map(([key, value]) => {
    if (kind === 'tag') validateTag({ key, value: String(value) });
    else if (key === '') throw new TrestleError('INVALID_ARGUMENT', 'trace metadata keys must not be empty');
    return [key, String(value)];
  });
}

/**
 * A {@link TraceStore} over the metadata database. Built by `SqlMetadataStore` as its `traces`.
 */
export class SqlTraceStore implements TraceStore {
  readonly #db: () => Db;
  readonly #write: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  readonly #dialect: SqlDialect;
  readonly #now: () => number;

  constructor(options: SqlTraceStoreOptions) {
    this.#db = options.db;
    this.#write = options.write;
    this.#dialect = options.dialect;
    this.#now = options.now ?? Date.now;
  }

  async #row(db: Db, traceId: string): Promise<Row> {
    if (typeof traceId !== 'string' || !TRACE_ID.test(traceId)) throw notFound(String(traceId));
    const row = await db.selectFrom('trace_info').selectAll().where('trace_id', '=', traceId).executeTakeFirst();
    if (row === undefined) throw notFound(traceId);
    return row;
  }

  async #hydrate(db: Db, rows: readonly Row[]): Promise<TraceInfo[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.trace_id);
    const [tags, metadata] = await Promise.all([
      db.selectFrom('trace_tags').selectAll().where('trace_id', 'in', ids).orderBy('key').execute(),
      db.selectFrom('trace_request_metadata').selectAll().where('trace_id', 'in', ids).orderBy('key').execute(),
    ]);
    const group = (list: readonly { trace_id: string; key: string; value: string }[], id: string) =>
      Object.fromEntries(list.filter((x) => x.trace_id === id).map((x) => [x.key, x.value]));
    return rows.map((r) => ({
      traceId: r.trace_id,
      experimentId: String(r.experiment_id),
      requestTime: Number(r.request_time),
      ...(r.execution_duration === null ? {} : { executionDuration: Number(r.execution_duration) }),
      state: r.state as TraceState,
      ...(r.client_request_id === null ? {} : { clientRequestId: r.client_request_id }),
      ...(r.request_preview === null ? {} : { requestPreview: r.request_preview }),
      ...(r.response_preview === null ? {} : { responsePreview: r.response_preview }),
      metadata: group(metadata, r.trace_id),
      tags: group(tags, r.trace_id),
    }));
  }

  async #upsertPairs(
    db: Db,
    table: 'trace_tags' | 'trace_request_metadata',
    traceId: string,
    pairs: readonly [string, string][],
  ): Promise<void> {
    for (const [key, value] of pairs) {
      await db
        .insertInto(table)
        .values({ trace_id: traceId, key, value })
        .onConflict((oc) => oc.columns(['trace_id', 'key']).doUpdateSet({ value }))
        .execute();
    }
  }

  async startTrace(input: StartTraceInput): Promise<TraceInfo> {
    const experimentId = parseExperimentId(input.experimentId);
    const traceId = input.traceId ?? `tr-${randomUUID().replaceAll('-', '')}`;
    if (!TRACE_ID.test(traceId)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `trace id ${JSON.stringify(traceId)} is not valid: use 'tr-' and 32 hex characters, as MLflow clients do`,
      );
    }
    if (!Number.isSafeInteger(input.requestTime) || input.requestTime < 0) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `trace request time must be epoch milliseconds, got ${input.requestTime}`,
      );
    }
    const state = input.state === undefined ? 'IN_PROGRESS' : parseTraceState(input.state);
    const tags = checkedMap(input.tags, 'tag');
    const metadata = checkedMap(input.metadata, 'metadata');
    const values = {
      experiment_id: experimentId,
      request_time: input.requestTime,
      execution_duration: input.executionDuration ?? null,
      state,
      client_request_id: input.clientRequestId ?? null,
      request_preview: input.requestPreview ?? null,
      response_preview: input.responsePreview ?? null,
    };
    await this.#write(async (db) => {
      const exp = await db
        .selectFrom('experiments')
        .select('lifecycle_stage')
        .where('experiment_id', '=', experimentId)
        .executeTakeFirst();
      if (exp === undefined) {
        throw new TrestleError('NOT_FOUND', `Could not find experiment with ID ${experimentId}`, {
          experimentId: String(experimentId),
        });
      }
      await db
        .insertInto('trace_info')
        .values({ trace_id: traceId, ...values })
        .onConflict((oc) => oc.column('trace_id').doUpdateSet(values))
        .execute();
      await this.#upsertPairs(db, 'trace_tags', traceId, tags);
      await this.#upsertPairs(db, 'trace_request_metadata', traceId, metadata);
    });
    return this.getTraceInfo(traceId);
  }

  async endTrace(traceId: string, input: EndTraceInput): Promise<TraceInfo> {
    const state = parseTraceState(input.state);
    const tags = checkedMap(input.tags, 'tag');
    const metadata = checkedMap(input.metadata, 'metadata');
    await this.#write(async (db) => {
      const row = await this.#row(db, traceId);
      await db
        .updateTable('trace_info')
        .set({ state, execution_duration: Math.max(0, input.endTime - Number(row.request_time)) })
        .where('trace_id', '=', traceId)
        .execute();
      await this.#upsertPairs(db, 'trace_tags', traceId, tags);
      await this.#upsertPairs(db, 'trace_request_metadata', traceId, metadata);
    });
    return this.getTraceInfo(traceId);
  }

  async getTraceInfo(traceId: string): Promise<TraceInfo> {
    const db = this.#db();
    const [info] = await this.#hydrate(db, [await this.#row(db, traceId)]);
    if (info === undefined) throw notFound(traceId);
    return info;
  }

  async searchTraces(options: SearchTracesOptions): Promise<Page<TraceInfo>> {
    const db = this.#db();
    const experimentIds = options.experimentIds.map((id) => parseExperimentId(id, 'INVALID_ARGUMENT'));
    if (experimentIds.length === 0) {
      throw new TrestleError('INVALID_ARGUMENT', 'a trace search needs at least one experiment id (or location)');
    }
    const limit = options.maxResults ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TRACE_RESULTS) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `max_results must be between 1 and ${MAX_TRACE_RESULTS}, got ${limit}; page through more with the page token`,
      );
    }
    const { offset } = decodePageToken(options.pageToken);
    const where = this.#compile(parseFilter(options.filter, 'traces'));
    const order = parseOrderBy(options.orderBy, 'traces').map((o) => {
      const column = COLUMNS[o.key];
      if (column === undefined) throw new TrestleError('INVALID_ARGUMENT', `cannot order traces by '${o.key}'`);
      return sql`${sql.ref(column)} ${sql.raw(o.direction)}`;
    });
    order.push(sql`ti.request_time DESC`, sql`ti.trace_id ASC`);
    const { rows } = await sql<Row>`
      SELECT ti.* FROM trace_info ti
      WHERE ti.experiment_id IN (${sql.join(experimentIds)}) AND ${where}
      ORDER BY ${sql.join(order)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(db);
    const items = await this.#hydrate(db, rows.slice(0, limit));
    return rows.length > limit ? { items, nextPageToken: encodePageToken({ offset: offset + limit }) } : { items };
  }

  #compile(expr: FilterExpr | undefined): RawBuilder<SqlBool> {
    return compileFilterTree(expr, (c) => {
      const pair = (table: 'trace_tags' | 'trace_request_metadata', key: string): RawBuilder<SqlBool> =>
        sql<SqlBool>`EXISTS (SELECT 1 FROM ${sql.table(table)} kv WHERE kv.trace_id = ti.trace_id AND kv.key = ${key} AND ${compareSql(sql.ref('kv.value'), c, this.#dialect)})`;
      switch (c.entity) {
        case 'tag':
          return pair('trace_tags', c.key);
        case 'metadata':
          return pair('trace_request_metadata', c.key);
        default: {
          if (c.key === 'name') return pair('trace_tags', TRACE_NAME_TAG);
          const column = COLUMNS[c.key];
          if (column === undefined) throw new TrestleError('INVALID_ARGUMENT', `cannot filter traces on '${c.key}'`);
          if (c.key === 'status' && typeof c.value === 'string' && (c.op === '=' || c.op === '!=')) {
            return compareSql(sql.ref(column), { ...c, value: c.value.toUpperCase() }, this.#dialect);
          }
          return compareSql(sql.ref(column), c, this.#dialect);
        }
      }
    });
  }

  async setTraceTag(traceId: string, key: string, value: string): Promise<void> {
    validateTag({ key, value });
    await this.#write(async (db) => {
      await this.#row(db, traceId);
      await this.#upsertPairs(db, 'trace_tags', traceId, [[key, value]]);
    });
  }

  async deleteTraceTag(traceId: string, key: string): Promise<void> {
    await this.#write(async (db) => {
      await this.#row(db, traceId);
      const result = await db
        .deleteFrom('trace_tags')
        .where('trace_id', '=', traceId)
        .where('key', '=', key)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) {
        throw new TrestleError('NOT_FOUND', `No trace tag with key '${key}' for trace with ID '${traceId}'`, {
          traceId,
          key,
        });
      }
    });
  }

  async deleteTraces(options: DeleteTracesOptions): Promise<number> {
    const experimentId = parseExperimentId(options.experimentId, 'INVALID_ARGUMENT');
    const byIds = options.traceIds !== undefined && options.traceIds.length > 0;
    const byTime = options.maxTimestampMillis !== undefined;
    if (byIds === byTime) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        'Either `max_timestamp_millis` or `request_ids` (trace ids) must be specified, and not both.',
      );
    }
    if (options.maxTraces !== undefined && (!Number.isSafeInteger(options.maxTraces) || options.maxTraces < 1)) {
      throw new TrestleError('INVALID_ARGUMENT', `max_traces must be a positive integer, got ${options.maxTraces}`);
    }
    return this.#write(async (db) => {
      let query = db.selectFrom('trace_info').select('trace_id').where('experiment_id', '=', experimentId);
      if (byIds) query = query.where('trace_id', 'in', options.traceIds ?? []);
      else query = query.where('request_time', '<=', options.maxTimestampMillis ?? 0);
      query = query.orderBy('request_time').orderBy('trace_id');
      if (options.maxTraces !== undefined) query = query.limit(options.maxTraces);
      const ids = (await query.execute()).map((r) => r.trace_id);
      if (ids.length === 0) return 0;
      for (const table of ['trace_run_links', 'trace_tags', 'trace_request_metadata', 'trace_info'] as const) {
        await db.deleteFrom(table).where('trace_id', 'in', ids).execute();
      }
      return ids.length;
    });
  }

  async linkTracesToRun(runId: string, traceIds: string[]): Promise<void> {
    if (traceIds.length > 100) {
      throw new TrestleError('INVALID_ARGUMENT', `Cannot link more than 100 traces to a run, got ${traceIds.length}`);
    }
    await this.#write(async (db) => {
      const run = await db.selectFrom('runs').select('run_id').where('run_id', '=', runId).executeTakeFirst();
      if (run === undefined) throw new TrestleError('NOT_FOUND', `Run '${runId}' not found`, { runId });
      const now = this.#now();
      for (const traceId of traceIds) {
        await this.#row(db, traceId);
        await db
          .insertInto('trace_run_links')
          .values({ trace_id: traceId, run_id: runId, created_time: now })
          .onConflict((oc) => oc.columns(['run_id', 'trace_id']).doNothing())
          .execute();
      }
    });
  }

  async linkedTraces(runId: string): Promise<string[]> {
    const rows = await this.#db()
      .selectFrom('trace_run_links')
      .select('trace_id')
      .where('run_id', '=', runId)
      .orderBy('created_time')
      .orderBy('trace_id')
      .execute();
    return rows.map((r) => r.trace_id);
  }
}
