/**
 * The metadata store: one Kysely implementation of {@link MetadataStore} for SQLite and
 * PostgreSQL. Dialect differences live in `dialects.ts`; this class never branches on the
 * dialect. Writes run in explicit transactions (retried when the engine reports a lost race);
 * reads run on the pool.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { CompiledQuery, Kysely, MigrationResultSet } from 'kysely';
import {
  DEFAULT_EXPERIMENT_ID,
  SYSTEM_TAGS,
  TrestleError,
  decodePageToken,
  encodePageToken,
  newRunId,
  newRunName,
  parseFilter,
  parseOrderBy,
  checkBatchLimits,
  parseExperimentId,
  validateExperimentName,
  validateInteger,
  validateKey,
  validateMaxResults,
  validateMetric,
  validateParam,
  validateRunName,
  validateRunStatus,
  validateTag,
} from '@trestle/core';
import type {
  CreateRunInput,
  DatasetInput,
  DownsampleOptions,
  Experiment,
  IdempotencyStore,
  LogBatchInput,
  MetadataStore,
  Metric,
  MetricHistoryOptions,
  Page,
  Param,
  Run,
  RunInfo,
  RunKeys,
  SearchExperimentsOptions,
  SearchRunsOptions,
  StoreCapabilities,
  Tag,
  TokenStore,
  DataVersionStore,
  RegistryStore,
  LoggedModelStore,
  TraceStore,
  MonitoringStore,
  UpdateRunInput,
  ViewType,
} from '@trestle/core';
import type { BulkColumnType, BulkValue, SqlDialect } from './dialects.js';
import { downsampleHistory } from './downsample.js';
import { decodeHistoryToken, encodeHistoryToken } from './history-token.js';
import { hydrateExperiments, hydrateRuns, toRunInfo } from './hydrate.js';
import type { ExperimentRow, RunRow } from './hydrate.js';
import { cursorOf } from './metric-chunks.js';
import { readHistory, readHistoryJson, sqlHistoryReader } from './metric-reads.js';
import { metricInserts, writeMetrics } from './metric-writes.js';
import { createMetadataMigrator } from './migrations/index.js';
import { prepare } from './prepared.js';
import type { MigrationContext } from './migrations/index.js';
import type { MetadataDatabase } from './schema.js';
import { compileExperimentSearch, compileRunSearch } from './search-compiler.js';
import { SqlIdempotencyStore } from './sql-idempotency-store.js';
import { SqlMonitoringStore } from './sql-monitoring-store.js';
import { SqlTokenStore } from './sql-token-store.js';
import { SqlDataVersionStore } from './sql-data-version-store.js';
import { SqlRegistryStore } from './sql-registry-store.js';
import { SqlLoggedModelStore } from './sql-logged-model-store.js';
import { SqlTraceStore } from './sql-trace-store.js';
import type { MetricFastPath } from './sqlite-metric-writer.js';

/** What {@link SqlMetadataStore} is built from; see `openMetadataStore` for the usual way in. */
export interface SqlMetadataStoreOptions {
  db: Kysely<MetadataDatabase>;
  dialect: SqlDialect;
  /** Absolute artifact root (path or URI): new experiments get `<artifactRoot>/<experiment_id>`. */
  artifactRoot: string;
  /** Epoch ms; default `Date.now`. */
  now?: () => number;
  /**
   * Writes metrics-only batches past the query builder when the engine allows it (SQLite:
   * `sqliteMetricFastPath`); a call it declines takes the general path.
   */
  metricFastPath?: MetricFastPath;
}

type Db = Kysely<MetadataDatabase>;

// prettier-ignore
const RUN_COLUMNS = [
  'run_id', 'experiment_id', 'run_name', 'user_id', 'status', 'start_time', 'end_time', 'artifact_uri', 'lifecycle_stage', 'deleted_time',
] as const satisfies readonly (keyof RunRow)[];
// prettier-ignore
const RUN_TYPES: readonly BulkColumnType[] = ['text', 'bigint', 'text', 'text', 'text', 'bigint', 'bigint', 'text', 'text', 'bigint'];
const TAG_COLUMNS = ['run_id', 'key', 'value'];
const TAG_TYPES: readonly BulkColumnType[] = ['text', 'text', 'text'];

const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['FINISHED', 'FAILED', 'KILLED']);
const MAX_WRITE_ATTEMPTS = 6;

/** Carries a failed migration run out of the write transaction, so that it rolls back. */
class MigrationFailure extends Error {
  constructor(readonly result: MigrationResultSet) {
    super('migration failed');
  }
}

function stagesOf(viewType: ViewType | undefined): string[] {
  switch (viewType ?? 'ACTIVE_ONLY') {
    case 'ACTIVE_ONLY':
      return ['active'];
    case 'DELETED_ONLY':
      return ['deleted'];
    case 'ALL':
      return ['active', 'deleted'];
    default:
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `view type must be ACTIVE_ONLY, DELETED_ONLY or ALL, got ${JSON.stringify(viewType)}`,
      );
  }
}

function runNotFound(runId: string): TrestleError {
  return new TrestleError('NOT_FOUND', `run '${runId}' does not exist`, { runId });
}

/** `row` (the run's), or NOT_FOUND when there is none, FAILED_PRECONDITION when it is deleted. */
function requireActiveRun<R extends { lifecycle_stage: string }>(row: R | undefined, runId: string, action: string): R {
  if (row === undefined) throw runNotFound(runId);
  if (row.lifecycle_stage !== 'active') {
    const message = `run '${runId}' is deleted; restore it (restoreRun) before ${action}`;
    throw new TrestleError('FAILED_PRECONDITION', message, { runId });
  }
  return row;
}

function tagMap(tags: readonly Tag[] | undefined, kind: 'tag' | 'experiment tag'): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tags ?? []) {
    const v = validateTag(t, kind);
    out.set(v.key, v.value);
  }
  return out;
}

/**
 * A {@link MetadataStore} over Kysely. The constructor does no I/O; open one with
 * `openMetadataStore(uri)`, which also migrates.
 *
 * @example
 * const store = await openMetadataStore('.trestle/trestle.db');
 * const run = await store.createRun({ experimentId: '0' });
 * await store.logBatch(run.info.runId, { metrics: [{ key: 'loss', value: 0.5, timestamp: Date.now(), step: 1 }] });
 */
export class SqlMetadataStore implements MetadataStore {
  readonly capabilities: StoreCapabilities;
  readonly tokens: TokenStore;
  readonly idempotency: IdempotencyStore;
  readonly dataVersions: DataVersionStore;
  readonly registry: RegistryStore;
  readonly loggedModels: LoggedModelStore;
  readonly monitoring: MonitoringStore;
  readonly traces: TraceStore;
  readonly #db: Db;
  readonly #dialect: SqlDialect;
  readonly #artifactRoot: string;
  readonly #now: () => number;
  readonly #metricFastPath: MetricFastPath | undefined;
  #storageFull: string | undefined;
  // Statements of every write and of the run lookups, compiled once (see prepared.ts).
  readonly #begin: CompiledQuery;
  readonly #commit: CompiledQuery;
  readonly #rollback: CompiledQuery;
  readonly #runById: (runId: string) => CompiledQuery<RunRow>;
  readonly #experimentById: (id: number) => CompiledQuery<ExperimentRow>;
  #closed = false;

  constructor(options: SqlMetadataStoreOptions) {
    this.#db = options.db;
    this.#dialect = options.dialect;
    this.#artifactRoot = options.artifactRoot.replace(/\/+$/, '');
    this.#now = options.now ?? Date.now;
    this.#metricFastPath = options.metricFastPath;
    this.tokens = new SqlTokenStore({ db: () => this.#open(), now: this.#now });
    this.idempotency = new SqlIdempotencyStore({ db: () => this.#open(), now: this.#now });
    this.dataVersions = new SqlDataVersionStore({ db: () => this.#open(), now: this.#now });
    this.registry = new SqlRegistryStore({
      db: () => this.#open(),
      write: (fn) => this.#write(fn),
      dialect: options.dialect,
      now: this.#now,
    });
    this.loggedModels = new SqlLoggedModelStore({
      db: () => this.#open(),
      write: (fn) => this.#write(fn),
      dialect: options.dialect,
      now: this.#now,
    });
    this.monitoring = new SqlMonitoringStore({
      db: () => this.#open(),
      write: (fn) => this.#write(fn),
      dialect: options.dialect,
      now: this.#now,
    });
    this.traces = new SqlTraceStore({
      db: () => this.#open(),
      write: (fn) => this.#write(fn),
      dialect: options.dialect,
      now: this.#now,
    });
    this.capabilities = options.dialect.capabilities;
    const db = options.db;
    this.#begin = options.dialect.beginWrite.compile(db);
    this.#commit = sql`commit`.compile(db);
    this.#rollback = sql`rollback`.compile(db);
    this.#runById = prepare(1, (id) => db.selectFrom('runs').selectAll().where('run_id', '=', id));
    this.#experimentById = prepare(1, (id) =>
      db
        .selectFrom('experiments')
        .selectAll()
        .where('experiment_id', '=', id as never),
    );
  }

  // ---------------------------------------------------------------- lifecycle

  async migrate(): Promise<string[]> {
    let outcome: MigrationResultSet;
    if (this.#dialect.migrateInWriteTransaction) {
      // Hold the write lock for the whole run: a second process waits, then finds nothing to do.
      outcome = await this.#write(async (conn) => {
        const result = await this.#migrator(conn, true).migrateToLatest();
        if (result.error !== undefined) throw new MigrationFailure(result);
        return result;
      }).catch((err: unknown) => {
        if (err instanceof MigrationFailure) return err.result;
        throw err;
      });
    } else {
      outcome = await this.#migrator(this.#open(), false).migrateToLatest();
    }
    const { error, results } = outcome;
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new TrestleError(
        'INTERNAL',
        `migrating the ${this.capabilities.dialect} metadata store failed${failed === undefined ? '' : ` at ${failed}`}: ${error instanceof Error ? error.message : JSON.stringify(error)}; fix the cause and run 'trestle db upgrade' again`,
        {},
        { cause: error },
      );
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async migrationStatus(): Promise<{ applied: string[]; pending: string[] }> {
    const all = await this.#migrator().getMigrations();
    return {
      applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
      pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }

  #migrator(db: Db = this.#open(), disableTransactions = false) {
    const ctx: MigrationContext = { dialect: this.#dialect, artifactRoot: this.#artifactRoot, now: this.#now };
    return createMetadataMigrator(db, ctx, { disableTransactions });
  }

  #open(): Db {
    if (this.#closed) throw new TrestleError('FAILED_PRECONDITION', 'the metadata store is closed; open a new one');
    return this.#db;
  }

  /** See {@link MetadataStore.writeStatus}: the last write failed for want of space, and none succeeded since. */
  writeStatus(): { writable: true } | { writable: false; reason: string } {
    return this.#storageFull === undefined ? { writable: true } : { writable: false, reason: this.#storageFull };
  }

  /**
   * Runs `fn` in a write transaction on one connection, retrying lost races (busy, deadlock).
   * With `transaction = false`, `fn` runs on the pool with no BEGIN or COMMIT: it must write
   * with one statement (atomic on its own), saving the two round trips.
   */
  async #write<T>(fn: (db: Db) => Promise<T>, transaction = true): Promise<T> {
    try {
      const result = await this.#writeOnce(fn, transaction);
      this.#storageFull = undefined;
      return result;
    } catch (err) {
      const full = this.#dialect.storageFull(err);
      if (full !== undefined) {
        this.#storageFull = full.message;
        throw full;
      }
      throw err;
    }
  }

  async #writeOnce<T>(fn: (db: Db) => Promise<T>, transaction: boolean): Promise<T> {
    const db = this.#open();
    for (let attempt = 1; ; attempt++) {
      try {
        if (!transaction) return await fn(db);
        return await db.connection().execute(async (conn) => {
          await conn.executeQuery(this.#begin);
          try {
            const result = await fn(conn);
            await conn.executeQuery(this.#commit);
            return result;
          } catch (err) {
            await conn.executeQuery(this.#rollback).catch(() => undefined);
            throw err;
          }
        });
      } catch (err) {
        if (this.#dialect.isBusy(err)) {
          throw new TrestleError(
            'UNAVAILABLE',
            `the ${this.capabilities.dialect} metadata store is locked by another writer and stayed locked; retry shortly`,
            {},
            { cause: err },
          );
        }
        if (attempt >= MAX_WRITE_ATTEMPTS || !this.#dialect.isRetryable(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 * 2 ** attempt * Math.random()));
      }
    }
  }

  // ---------------------------------------------------------------- experiments

  async createExperiment(input: { name: string; artifactLocation?: string; tags?: Tag[] }): Promise<Experiment> {
    const name = validateExperimentName(input.name);
    const tags = tagMap(input.tags, 'experiment tag');
    if (
      input.artifactLocation !== undefined &&
      (typeof input.artifactLocation !== 'string' || input.artifactLocation === '')
    ) {
      throw new TrestleError('INVALID_ARGUMENT', 'artifactLocation must be a non-empty path or URI when given');
    }
    try {
      return await this.#write(async (db) => {
        const taken = await db
          .selectFrom('experiments')
          .select(['experiment_id', 'lifecycle_stage'])
          .where('name', '=', name)
          .executeTakeFirst();
        if (taken !== undefined) throw this.#nameTaken(name, taken.lifecycle_stage);
        const now = this.#now();
        const { experiment_id: id } = await db
          .insertInto('experiments')
          .values({
            name,
            artifact_location: input.artifactLocation ?? '',
            lifecycle_stage: 'active',
            creation_time: now,
            last_update_time: now,
          })
          .returning('experiment_id')
          .executeTakeFirstOrThrow();
        if (input.artifactLocation === undefined) {
          await db
            .updateTable('experiments')
            .set({ artifact_location: `${this.#artifactRoot}/${id}` })
            .where('experiment_id', '=', id)
            .execute();
        }
        if (tags.size > 0) {
          await db
            .insertInto('experiment_tags')
            .values([...tags].map(([key, value]) => ({ experiment_id: id, key, value })))
            .execute();
        }
        return this.#getExperiment(db, id);
      });
    } catch (err) {
      if (this.#dialect.isUniqueViolation(err)) throw this.#nameTaken(name, 'active');
      throw err;
    }
  }

  #nameTaken(name: string, stage: string): TrestleError {
    return new TrestleError(
      'ALREADY_EXISTS',
      stage === 'deleted'
        ? `experiment '${name}' already exists and is deleted; restore it or choose another name`
        : `experiment '${name}' already exists; choose another name or log to the existing one`,
      { name },
    );
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return this.#getExperiment(this.#open(), parseExperimentId(experimentId));
  }

  async #getExperiment(db: Db, id: number): Promise<Experiment> {
    const row = await this.#experimentRow(db, id);
    const [experiment] = await hydrateExperiments(db, this.#dialect, [row]);
    return experiment!;
  }

  async #experimentRow(db: Db, id: number): Promise<ExperimentRow> {
    const row = (await db.executeQuery(this.#experimentById(id))).rows[0];
    if (row === undefined)
      throw new TrestleError('NOT_FOUND', `experiment '${id}' does not exist`, { experimentId: String(id) });
    return row;
  }

  async #activeExperimentRow(db: Db, id: number, action: string): Promise<ExperimentRow> {
    const row = await this.#experimentRow(db, id);
    if (row.lifecycle_stage !== 'active') {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `experiment '${id}' (${row.name}) is deleted; restore it before you ${action}`,
        { experimentId: String(id) },
      );
    }
    return row;
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const db = this.#open();
    const row = await db.selectFrom('experiments').selectAll().where('name', '=', String(name)).executeTakeFirst();
    if (row === undefined) throw new TrestleError('NOT_FOUND', `experiment '${name}' does not exist`, { name });
    const [experiment] = await hydrateExperiments(db, this.#dialect, [row]);
    return experiment!;
  }

  async searchExperiments(options: SearchExperimentsOptions = {}): Promise<Page<Experiment>> {
    const db = this.#open();
    const filter = parseFilter(options.filter, 'experiments');
    const orderBy = parseOrderBy(options.orderBy, 'experiments');
    const limit = validateMaxResults(options.maxResults);
    const { offset } = decodePageToken(options.pageToken);
    const stages = stagesOf(options.viewType);
    const compiled = compileExperimentSearch(filter, orderBy, this.#dialect);
    const { rows } = await sql<ExperimentRow>`
      SELECT e.* FROM experiments e ${sql.join(compiled.joins, sql` `)}
      WHERE e.lifecycle_stage IN (${sql.join(stages)}) AND ${compiled.where}
      ORDER BY ${sql.join(compiled.orderBy)}
      LIMIT ${limit + 1} OFFSET ${offset}`.execute(db);
    const items = await hydrateExperiments(db, this.#dialect, rows.slice(0, limit));
    return rows.length > limit ? { items, nextPageToken: encodePageToken({ offset: offset + limit }) } : { items };
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    const name = validateExperimentName(newName);
    try {
      await this.#write(async (db) => {
        const row = await this.#activeExperimentRow(db, id, 'renaming it');
        if (row.name === name) return;
        const taken = await db
          .selectFrom('experiments')
          .select('lifecycle_stage')
          .where('name', '=', name)
          .executeTakeFirst();
        if (taken !== undefined) throw this.#nameTaken(name, taken.lifecycle_stage);
        await db
          .updateTable('experiments')
          .set({ name, last_update_time: this.#now() })
          .where('experiment_id', '=', id)
          .execute();
      });
    } catch (err) {
      if (this.#dialect.isUniqueViolation(err)) throw this.#nameTaken(name, 'active');
      throw err;
    }
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    if (String(id) === DEFAULT_EXPERIMENT_ID) {
      throw new TrestleError(
        'FAILED_PRECONDITION',
        `the Default experiment (id ${DEFAULT_EXPERIMENT_ID}) cannot be deleted; delete its runs instead`,
        { experimentId },
      );
    }
    await this.#write(async (db) => {
      const row = await this.#experimentRow(db, id);
      if (row.lifecycle_stage === 'deleted') return;
      // The batch recorded on the experiment and on the runs deleted with it is what a restore
      // brings back: exactly these runs, not those deleted on their own, whatever the clocks say.
      const batch = randomUUID();
      const now = this.#now();
      await db
        .updateTable('experiments')
        .set({ lifecycle_stage: 'deleted', last_update_time: now, deleted_batch: batch })
        .where('experiment_id', '=', id)
        .execute();
      await db
        .updateTable('runs')
        .set({ lifecycle_stage: 'deleted', deleted_time: now, deleted_batch: batch })
        .where('experiment_id', '=', id)
        .where('lifecycle_stage', '=', 'active')
        .execute();
    });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.#write(async (db) => {
      const row = await this.#experimentRow(db, id);
      if (row.lifecycle_stage === 'active') return;
      await db
        .updateTable('experiments')
        .set({ lifecycle_stage: 'active', last_update_time: this.#now(), deleted_batch: null })
        .where('experiment_id', '=', id)
        .execute();
      if (row.deleted_batch === null) return;
      await db
        .updateTable('runs')
        .set({ lifecycle_stage: 'active', deleted_time: null, deleted_batch: null })
        .where('experiment_id', '=', id)
        .where('lifecycle_stage', '=', 'deleted')
        .where('deleted_batch', '=', row.deleted_batch)
        .execute();
    });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    const tag = validateTag({ key, value }, 'experiment tag');
    await this.#write(async (db) => {
      await this.#activeExperimentRow(db, id, 'setting tags on it');
      await db
        .insertInto('experiment_tags')
        .values({ experiment_id: id, key: tag.key, value: tag.value })
        .onConflict((oc) =>
          oc.columns(['experiment_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }),
        )
        .execute();
      await db
        .updateTable('experiments')
        .set({ last_update_time: this.#now() })
        .where('experiment_id', '=', id)
        .execute();
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.#write(async (db) => {
      await this.#activeExperimentRow(db, id, 'deleting its tags');
      const res = await db
        .deleteFrom('experiment_tags')
        .where('experiment_id', '=', id)
        .where('key', '=', String(key))
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) {
        throw new TrestleError('NOT_FOUND', `experiment '${id}' has no tag '${key}'`, { experimentId, key });
      }
      await db
        .updateTable('experiments')
        .set({ last_update_time: this.#now() })
        .where('experiment_id', '=', id)
        .execute();
    });
  }

  // ---------------------------------------------------------------- runs

  async createRun(input: CreateRunInput): Promise<Run> {
    const experimentId = parseExperimentId(input.experimentId);
    const tags = tagMap(input.tags, 'tag');
    const tagName = tags.get(SYSTEM_TAGS.runName);
    if (input.runName !== undefined && tagName !== undefined && tagName !== input.runName) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `runName '${input.runName}' and tag ${SYSTEM_TAGS.runName} '${tagName}' disagree; pass only one of them`,
      );
    }
    const runName = validateRunName(input.runName ?? tagName ?? newRunName());
    const userId = input.userId ?? tags.get(SYSTEM_TAGS.user) ?? '';
    if (typeof userId !== 'string') throw new TrestleError('INVALID_ARGUMENT', 'userId must be a string');
    const startTime =
      input.startTime === undefined ? this.#now() : validateInteger('startTime (epoch ms)', input.startTime);
    tags.set(SYSTEM_TAGS.runName, runName);
    if (userId !== '' && input.userTag !== false) tags.set(SYSTEM_TAGS.user, userId);
    if (input.parentRunId !== undefined) tags.set(SYSTEM_TAGS.parentRunId, String(input.parentRunId));

    return this.#write(async (db) => {
      const experiment = await this.#activeExperimentRow(db, experimentId, 'creating runs in it');
      if (input.parentRunId !== undefined) {
        const parent = await db
          .selectFrom('runs')
          .select('run_id')
          .where('run_id', '=', String(input.parentRunId))
          .executeTakeFirst();
        if (parent === undefined) {
          throw new TrestleError(
            'NOT_FOUND',
            `parent run '${input.parentRunId}' does not exist; pass the id of an existing run`,
            {
              parentRunId: input.parentRunId,
            },
          );
        }
      }
      const runId = newRunId();
      const row: RunRow = {
        run_id: runId,
        experiment_id: experimentId,
        run_name: runName,
        user_id: userId,
        status: 'RUNNING',
        start_time: startTime,
        end_time: null,
        artifact_uri: `${experiment.artifact_location.replace(/\/+$/, '')}/${runId}/artifacts`,
        lifecycle_stage: 'active',
        deleted_time: null,
        deleted_batch: null,
      };
      // Plain statement text (no query building): creating runs is a hot path of training scripts.
      await this.#insert('runs', RUN_COLUMNS, RUN_TYPES, [RUN_COLUMNS.map((c) => row[c])], db);
      const sortedTags = [...tags].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => ({ key, value }));
      await this.#insert(
        'tags',
        TAG_COLUMNS,
        TAG_TYPES,
        sortedTags.map((t) => [runId, t.key, t.value]),
        db,
      );
      // A new run has nothing else: no need to read it back.
      return {
        info: toRunInfo(row),
        data: { metrics: [], params: [], tags: sortedTags },
        inputs: { datasetInputs: [] },
      };
    });
  }

  async #insert(
    into: string,
    columns: readonly string[],
    types: readonly BulkColumnType[],
    rows: BulkValue[][],
    db: Db,
  ): Promise<void> {
    for (const q of this.#dialect.bulkInsert({ into, columns, types, rows, tail: '' })) await db.executeQuery(q);
  }

  async getRun(runId: string): Promise<Run> {
    return this.#getRun(this.#open(), runId);
  }

  async #getRun(db: Db, runId: string): Promise<Run> {
    const row = await this.#runRow(db, runId);
    const [run] = await hydrateRuns(db, this.#dialect, [row]);
    return run!;
  }

  async #runRow(db: Db, runId: string): Promise<RunRow> {
    if (typeof runId !== 'string' || runId === '') throw runNotFound(String(runId));
    const row = (await db.executeQuery(this.#runById(runId))).rows[0];
    if (row === undefined) throw runNotFound(runId);
    return row;
  }

  async #activeRunRow(db: Db, runId: string, action: string): Promise<RunRow> {
    return requireActiveRun(await this.#runRow(db, runId), runId, action);
  }

  async updateRun(runId: string, input: UpdateRunInput): Promise<RunInfo> {
    const status = input.status === undefined ? undefined : validateRunStatus(input.status);
    const endTime = input.endTime === undefined ? undefined : validateInteger('endTime (epoch ms)', input.endTime);
    const runName = input.runName === undefined ? undefined : validateRunName(input.runName);
    return this.#write(async (db) => {
      const row = await this.#activeRunRow(db, runId, 'updating it');
      const changes: Partial<RunRow> = {};
      if (status !== undefined) changes.status = status;
      if (endTime !== undefined) changes.end_time = endTime;
      else if (status !== undefined && TERMINAL_STATUSES.has(status)) changes.end_time = row.end_time ?? this.#now();
      else if (status === 'RUNNING') changes.end_time = null;
      if (runName !== undefined) {
        changes.run_name = runName;
        await this.#upsertTags(db, runId, [[SYSTEM_TAGS.runName, runName]]);
      }
      if (Object.keys(changes).length > 0)
        await db.updateTable('runs').set(changes).where('run_id', '=', runId).execute();
      return toRunInfo({ ...row, ...changes });
    });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.#write(async (db) => {
      const row = await this.#runRow(db, runId);
      if (row.lifecycle_stage === 'deleted') return;
      await db
        .updateTable('runs')
        .set({ lifecycle_stage: 'deleted', deleted_time: this.#now() })
        .where('run_id', '=', runId)
        .execute();
    });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.#write(async (db) => {
      const row = await this.#runRow(db, runId);
      if (row.lifecycle_stage === 'active') return;
      await this.#activeExperimentRow(db, row.experiment_id, 'restoring its runs');
      await db
        .updateTable('runs')
        .set({ lifecycle_stage: 'active', deleted_time: null, deleted_batch: null })
        .where('run_id', '=', runId)
        .execute();
    });
  }

  async logBatch(runId: string, batch: LogBatchInput): Promise<void> {
    checkBatchLimits(batch);
    const keys = new Set<string>();
    const metrics = (batch.metrics ?? []).map((m) => {
      // Batches repeat a few keys many times: check each key once.
      if (keys.has(m.key)) return validateMetric(m, false);
      keys.add(m.key);
      return validateMetric(m);
    });
    const params = new Map<string, string>();
    for (const p of (batch.params ?? []).map(validateParam)) {
      const seen = params.get(p.key);
      if (seen !== undefined && seen !== p.value) {
        throw new TrestleError(
          'CONFLICT',
          `param '${p.key}' appears twice in the batch with different values ('${seen}' and '${p.value}'); params are immutable, log it once`,
          { key: p.key },
        );
      }
      params.set(p.key, p.value);
    }
    const tags = tagMap(batch.tags, 'tag');
    if (typeof runId !== 'string' || runId === '') throw runNotFound(String(runId));
    if (params.size === 0 && tags.size === 0 && this.#metricFastPath !== undefined) {
      this.#open();
      if (this.#metricFastPath.tryWrite(runId, metrics)) {
        this.#storageFull = undefined;
        return;
      }
    }
    const write = (dedupe: boolean) => {
      // Metrics alone (log-metric, the SDK's metric buffer): one statement where the engine
      // can, run check included (insertsIfRunActive), so one round trip.
      const statement =
        params.size === 0 && tags.size === 0
          ? this.#dialect.insertsIfRunActive?.(
              runId,
              metricInserts(runId, metrics, this.#dialect.metricHistory, dedupe),
            )
          : undefined;
      if (statement !== undefined) {
        return this.#write(async (db) => {
          requireActiveRun((await db.executeQuery(statement)).rows[0], runId, 'logging to it');
        }, false);
      }
      return this.#write(async (db) => {
        await this.#activeRunRow(db, runId, 'logging to it');
        if (params.size > 0)
          await this.#insertParams(
            db,
            runId,
            [...params].map(([key, value]) => ({ key, value })),
          );
        if (tags.size > 0) await this.#upsertTags(db, runId, [...tags]);
        await writeMetrics(db, this.#dialect, runId, metrics, dedupe);
      });
    };
    try {
      await write(false);
    } catch (err) {
      // Only the plain history insert can violate a unique key here: a point logged again.
      if (metrics.length === 0 || !this.#dialect.isUniqueViolation(err)) throw err;
      await write(true);
    }
  }

  async #insertParams(db: Db, runId: string, params: Param[]): Promise<void> {
    params.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await db
      .insertInto('params')
      .values(params.map((p) => ({ run_id: runId, key: p.key, value: p.value })))
      .onConflict((oc) => oc.doNothing())
      .execute();
    // Read back after the insert: under concurrent writers this sees whichever value won.
    const stored = await db
      .selectFrom('params')
      .select(['key', 'value'])
      .where('run_id', '=', runId)
      .where(
        'key',
        'in',
        params.map((p) => p.key),
      )
      .execute();
    const byKey = new Map(stored.map((s) => [s.key, s.value]));
    for (const p of params) {
      const old = byKey.get(p.key);
      if (old !== undefined && old !== p.value) {
        throw new TrestleError(
          'CONFLICT',
          `param '${p.key}' of run '${runId}' was already logged with value '${old}'; params are immutable, so '${p.value}' cannot replace it: log it under another key or start a new run`,
          { runId, key: p.key, oldValue: old, newValue: p.value },
        );
      }
    }
  }

  async #upsertTags(db: Db, runId: string, tags: [string, string][]): Promise<void> {
    tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    await db
      .insertInto('tags')
      .values(tags.map(([key, value]) => ({ run_id: runId, key, value })))
      .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute();
    const name = tags.find(([key]) => key === SYSTEM_TAGS.runName)?.[1];
    if (name !== undefined) {
      await db
        .updateTable('runs')
        .set({ run_name: validateRunName(name) })
        .where('run_id', '=', runId)
        .execute();
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch(runId, { tags: [{ key, value }] });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.#write(async (db) => {
      await this.#activeRunRow(db, runId, 'deleting its tags');
      const res = await db
        .deleteFrom('tags')
        .where('run_id', '=', runId)
        .where('key', '=', String(key))
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) {
        throw new TrestleError('NOT_FOUND', `run '${runId}' has no tag '${key}'`, { runId, key });
      }
    });
  }

  async logInputs(runId: string, inputs: DatasetInput[]): Promise<void> {
    const checked = inputs.map((input) => {
      const d = input.dataset;
      for (const [field, value] of [
        ['name', d.name],
        ['digest', d.digest],
        ['sourceType', d.sourceType],
        ['source', d.source],
      ] as const) {
        if (typeof value !== 'string' || (value === '' && (field === 'name' || field === 'digest'))) {
          throw new TrestleError(
            'INVALID_ARGUMENT',
            `dataset ${field} must be a ${field === 'name' || field === 'digest' ? 'non-empty ' : ''}string`,
          );
        }
      }
      return { dataset: d, tags: tagMap(input.tags, 'tag') };
    });
    await this.#write(async (db) => {
      const run = await this.#activeRunRow(db, runId, 'logging inputs to it');
      const done = new Set<string>();
      for (const { dataset: d, tags } of checked) {
        const identity = JSON.stringify([d.name, d.digest]);
        if (done.has(identity)) continue;
        done.add(identity);
        await db
          .insertInto('datasets')
          .values({
            dataset_id: randomBytes(16).toString('hex'),
            experiment_id: run.experiment_id,
            name: d.name,
            digest: d.digest,
            source_type: d.sourceType,
            source: d.source,
            schema: d.schema ?? null,
            profile: d.profile ?? null,
          })
          .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
          .execute();
        const { dataset_id: datasetId } = await db
          .selectFrom('datasets')
          .select('dataset_id')
          .where('experiment_id', '=', run.experiment_id)
          .where('name', '=', d.name)
          .where('digest', '=', d.digest)
          .executeTakeFirstOrThrow();
        const inputId = randomBytes(16).toString('hex');
        const inserted = await db
          .insertInto('inputs')
          .values({ input_id: inputId, dataset_id: datasetId, run_id: runId })
          .onConflict((oc) => oc.columns(['dataset_id', 'run_id']).doNothing())
          .executeTakeFirst();
        // MLflow keeps the first record of a (dataset, run) input: a repeat adds nothing.
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 && tags.size > 0) {
          await db
            .insertInto('input_tags')
            .values([...tags].map(([key, value]) => ({ input_id: inputId, key, value })))
            .execute();
        }
      }
    });
  }

  // ---------------------------------------------------------------- metric history

  async getMetricHistory(runId: string, key: string, options: MetricHistoryOptions = {}): Promise<Page<Metric>> {
    const db = this.#open();
    validateKey('metric', key);
    const { maxResults, pageToken } = options;
    if (maxResults !== undefined && (!Number.isSafeInteger(maxResults) || maxResults < 1)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `maxResults must be a positive integer, got ${maxResults}; omit it to get the whole history`,
      );
    }
    const after = pageToken === undefined || pageToken === '' ? undefined : decodeHistoryToken(pageToken);
    await this.#runRow(db, runId);
    const points = await readHistory(db, this.#dialect, runId, key, {
      ...(after === undefined ? {} : { after }),
      ...(maxResults === undefined ? {} : { limit: maxResults + 1 }),
    });
    const more = maxResults !== undefined && points.length > maxResults;
    const items = more ? points.slice(0, maxResults) : points;
    return more ? { items, nextPageToken: encodeHistoryToken(cursorOf(items[items.length - 1]!)) } : { items };
  }

  async getMetricHistoryJson(runId: string, key: string): Promise<string> {
    const db = this.#open();
    validateKey('metric', key);
    await this.#runRow(db, runId);
    return readHistoryJson(db, this.#dialect, runId, key);
  }

  async getMetricHistoryDownsampled(runId: string, key: string, options: DownsampleOptions): Promise<Metric[]> {
    const db = this.#open();
    validateKey('metric', key);
    const points = validateInteger('points', options.points);
    if (points < 1) throw new TrestleError('INVALID_ARGUMENT', `points must be at least 1, got ${points}`);
    const startStep = options.startStep === undefined ? undefined : validateInteger('startStep', options.startStep);
    const endStep = options.endStep === undefined ? undefined : validateInteger('endStep', options.endStep);
    if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
      throw new TrestleError('INVALID_ARGUMENT', `startStep ${startStep} is after endStep ${endStep}; swap them`);
    }
    await this.#runRow(db, runId);
    const sampled = await downsampleHistory(sqlHistoryReader(db, this.#dialect, runId, key), {
      points,
      ...(startStep === undefined ? {} : { startStep }),
      ...(endStep === undefined ? {} : { endStep }),
    });
    return sampled.map((p) => ({ key, value: p.value, timestamp: p.timestamp, step: p.step }));
  }

  // ---------------------------------------------------------------- search

  async searchRuns(options: SearchRunsOptions): Promise<Page<Run>> {
    const db = this.#open();
    if (!Array.isArray(options.experimentIds)) {
      throw new TrestleError('INVALID_ARGUMENT', 'experimentIds must be a list of experiment ids');
    }
    const experimentIds = options.experimentIds.map((id) => parseExperimentId(id, 'INVALID_ARGUMENT'));
    const filter = parseFilter(options.filter, 'runs', { anyValue: options.anyStatus === true });
    const orderBy = parseOrderBy(options.orderBy, 'runs');
    const limit = validateMaxResults(options.maxResults);
    const { offset } = decodePageToken(options.pageToken);
    const stages = stagesOf(options.viewType);
    const compiled = compileRunSearch(filter, orderBy, this.#dialect);
    if (experimentIds.length === 0) return { items: [] };
    const { rows } = await sql<RunRow>`
      SELECT r.* FROM runs r ${sql.join(compiled.joins, sql` `)}
      WHERE ${experimentIds.length <= 100 ? sql`r.experiment_id IN (${sql.join(experimentIds)})` : this.#dialect.inList(sql.ref('r.experiment_id'), experimentIds, 'bigint')}
        AND r.lifecycle_stage IN (${sql.join(stages)})
        AND ${compiled.where}
      ORDER BY ${sql.join(compiled.orderBy)}
      LIMIT ${limit + 1} OFFSET ${offset}`.execute(db);
    const items = await hydrateRuns(db, this.#dialect, rows.slice(0, limit));
    return rows.length > limit ? { items, nextPageToken: encodePageToken({ offset: offset + limit }) } : { items };
  }

  async listRunKeys(experimentId: string): Promise<RunKeys> {
    const db = this.#open();
    const id = parseExperimentId(experimentId);
    await this.#experimentRow(db, id);
    // A loose index scan: walk the distinct keys of the whole table through its (key, value)
    // index (one seek per key: ORDER BY … LIMIT 1, as SQLite scans the whole range for a MIN
    // with a WHERE), then keep a key if one active run of the experiment has it.
    // Reading every (run, key) row of a 10,000-run × 1,000-key experiment would touch millions.
    // The existence check stops at the first run that has the key; a key only other experiments
    // have costs one primary-key probe per run of this one (measured: 300 such keys × 1,000 runs
    // ≈ 3 s on a loaded 2-core machine), so stores with many experiments of disjoint keys pay more.
    const keysOf = async (table: 'params' | 'tags' | 'latest_metrics'): Promise<string[]> => {
      const t = sql.table(table);
      const { rows } = await sql<{ key: string | null }>`
        WITH RECURSIVE k(key) AS (
          SELECT MIN(key) FROM ${t}
          UNION ALL
          SELECT (SELECT n.key FROM ${t} n WHERE n.key > k.key ORDER BY n.key LIMIT 1) FROM k WHERE k.key IS NOT NULL
        )
        SELECT k.key FROM k
        WHERE k.key IS NOT NULL AND EXISTS (
          SELECT 1 FROM ${t} x JOIN runs r ON r.run_id = x.run_id
          WHERE x.key = k.key AND r.experiment_id = ${id} AND r.lifecycle_stage = 'active')`.execute(db);
      // One order for every backend (PostgreSQL's would follow its collation).
      return rows.flatMap((r) => (r.key === null ? [] : [r.key])).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    };
    return { params: await keysOf('params'), metrics: await keysOf('latest_metrics'), tags: await keysOf('tags') };
  }
}
